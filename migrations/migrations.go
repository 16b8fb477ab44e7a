// Package migrations embeds Herald's SQL schema migrations, one directory per
// database dialect, in the form golang-migrate reads: NNNNNN_name.up.sql and
// NNNNNN_name.down.sql.
package migrations

import "embed"

// Postgres holds the PostgreSQL migrations under the directory "postgres".
//
//go:embed postgres/*.sql
var Postgres embed.FS

// SQLite holds the SQLite migrations under the directory "sqlite". They
// carry the same versions and names as the PostgreSQL ones, so a version
// means the same schema on both.
//
//go:embed sqlite/*.sql
var SQLite embed.FS
