"""Signed webhooks (Standard Webhooks): endpoints, URL checks, signing, the dispatcher."""
