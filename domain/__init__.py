"""The domain: vocabulary, rules, the access policy, errors, clock, text and settings.

Nothing here imports the rest of chibo (storage, services, handlers, bot).
"""
