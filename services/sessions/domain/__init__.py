"""The sessions domain: plain Python, no I/O.

- :mod:`.lifecycle`  the state machine of a session (one transition table)
- :mod:`.session`    the session aggregate: planning, registrations, waitlist, attendance
- :mod:`.outputs`    outputs of a session and consent-aware attribution
- :mod:`.reflections` a member's reflection after a session
- :mod:`.read_models` networks, people and memberships as this service knows them from events
- :mod:`.access`     who may do what with sessions, registrations, outputs and reflections
- :mod:`.reports`    the learning report of a network
"""
