"""Riposte: the pure core of the assistant (no rasa_sdk import here).

Decision logic, deadlines, the case store and letter rendering live in this package so that
they can be tested with plain pytest and reused by the actions, the command line and the
benchmarks.
"""

__version__ = "0.1.0"
