"""Domain rules as plain functions: no Telegram, no SQL. Each names its source."""
