"""The conversation skills: from slots and messages to the case file, without Rasa.

Each module holds the logic of one skill, used by the actions of the same name (actions/).
"""
