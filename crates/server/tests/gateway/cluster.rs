//! Several nodes on one PostgreSQL and one NATS.
