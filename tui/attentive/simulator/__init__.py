"""The Attentive simulator: an aiohttp server that behaves like Attentive's API.

config (SimulatorConfig, KeySpec), demo (the public demo keys), server (the app and its request
pipeline), api (endpoint handlers), event_routes (the event endpoints), event_log (the events that
arrived), validation (OpenAPI request schemas), rules (attribute and identifier rules), state
(profiles and events, persisted), jobs (bulk jobs), ratelimit, faults, embedded (in a thread of this
process), standalone (as a program), process (as a child process).
"""
