"""Backends: the live systems that hold schedules, behind one :class:`base.Backend` Protocol."""
