"""Exercise checks, one module per chapter: ``from helpers.exercises import ch02``."""
