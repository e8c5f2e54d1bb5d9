"""The embedded dev source: a generated SQLite ``miniboss_bss`` telecom BSS database."""
