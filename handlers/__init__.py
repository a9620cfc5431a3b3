"""Telegram adapters: parse the update, call one use case, render a localized reply."""
