"""The Attentive simulator: an aiohttp server that behaves like Attentive's API.

config (SimulatorConfig, KeySpec), demo (the public demo keys), server (the app and its request
pipeline), api (endpoint handlers), validation (OpenAPI request schemas), rules (attribute and
identifier rules), state (profiles, persisted), jobs (bulk jobs), ratelimit, faults, embedded
(in a thread of this process), standalone (as a program), process (as a child process).
"""
