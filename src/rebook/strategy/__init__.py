"""The cancellation strategy: pure rules over a lead's history, with no Django import.

Every function takes plain frozen dataclasses and an explicit ``now`` and returns a decision.
The Django services load the history, call these rules and persist what they decide.
"""
