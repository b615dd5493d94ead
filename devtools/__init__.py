"""Tools shared by the tests and the benchmarks, never imported by the application.

    ports.py     ports for the servers they start
    waiting.py   waiting for a condition, with a deadline (never a fixed sleep)
    stack.py     `riposte serve` started on free ports with a var/ folder of its own
"""
