"""Components of the NLU pipeline (config.yml) and the intent override they share."""
