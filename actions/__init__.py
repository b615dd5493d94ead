"""Custom actions for Riposte (rasa-sdk). Thin: they read slots, call the pure core in
`riposte/`, send responses defined in domain.yml and return events. No import-time work."""
