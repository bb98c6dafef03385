"""Reporting: PRISMA 2020 counts and flow diagram, evidence tables, derived from the store."""
