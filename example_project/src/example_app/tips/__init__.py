"""Tips shipped as package data."""
