//! Recorded-style sequences and fuzzing for every tracker.
