-- One database per service: no service reads another's tables.
CREATE DATABASE contracts;
CREATE DATABASE orders;
CREATE DATABASE settlement;
CREATE DATABASE alerts;
CREATE DATABASE console;  -- the operations console: staff accounts, sessions, audit (no service data)
