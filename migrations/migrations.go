// Package migrations embeds Herald's SQL schema migrations, one directory per
// database dialect, in the form golang-migrate reads: NNNNNN_name.up.sql and
// NNNNNN_name.down.sql.
package migrations

import "embed"

// Postgres holds the PostgreSQL migrations under the directory "postgres".
//
//go:embed postgres/*.sql
var Postgres embed.FS
