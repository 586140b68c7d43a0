"""Synthetic worlds that write the same real formats as the instruments, with truth."""
