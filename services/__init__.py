"""Use cases that orchestrate storage and Telegram delivery: reminders, the outbox sender,
the deadline calendar, and the services shared by handlers and jobs."""
