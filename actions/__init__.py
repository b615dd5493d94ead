"""Custom actions for Riposte (rasa-sdk). Thin: they read slots, call the pure core in
`riposte/`, send responses defined in domain/ and return events. No import-time work."""

import logging

# rasa_sdk warns for every form slot without a validate_<slot> method; ours validate in
# get_extraction_events, so these warnings would only hide real ones in the operator's log.
logging.getLogger("rasa_sdk.forms").setLevel(logging.ERROR)
