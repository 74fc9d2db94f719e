//! The binary form: see the module docs (written next).
