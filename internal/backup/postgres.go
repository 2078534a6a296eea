package backup

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/store"
)

// pgTarget turns a PORTAL_DATABASE_URL into what the PostgreSQL client tools
// take: the URL without its password, which goes in PGPASSWORD instead so it
// never shows in the process list. A search_path (a schema inside a shared
// database) is refused: the tools copy whole databases.
func pgTarget(dsn string) (string, []string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", nil, fmt.Errorf("PORTAL_DATABASE_URL is not a valid URL: %w", err)
	}
	if u.Query().Has("search_path") {
		return "", nil, errors.New("PORTAL_DATABASE_URL names a schema (search_path); backup and restore copy a whole PostgreSQL database, so give the portal a database of its own")
	}
	env := os.Environ()
	if pw, ok := u.User.Password(); ok {
		env = append(env, "PGPASSWORD="+pw)
		u.User = url.User(u.User.Username())
	}
	return u.String(), env, nil
}

// pgTool finds a PostgreSQL client program on PATH.
func pgTool(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s is not installed (not found on PATH): install the PostgreSQL client tools of the server's major version, e.g. apt-get install postgresql-client-15, then try again", name)
	}
	return path, nil
}

// runTool runs a client program, returning what it said on failure.
func runTool(ctx context.Context, env []string, name string, args ...string) error {
	path, err := pgTool(name)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, path, args...) // #nosec G204 -- pg_dump or pg_restore from PATH, arguments built by this package, no shell
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s failed: %w: %s", name, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// pgDump writes the database to file in pg_dump's custom format. The row
// counts and the audit chain's end are read in a read-only, repeatable-read
// transaction whose snapshot pg_dump then uses, so the manifest describes
// exactly the rows in the dump even while the portal keeps working.
func pgDump(ctx context.Context, db *store.DB, dsn, file string, m *Manifest) error {
	target, env, err := pgTarget(dsn)
	if err != nil {
		return err
	}
	if _, err := pgTool("pg_dump"); err != nil {
		return err
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var snapshot string
		if err := tx.Raw("SELECT pg_export_snapshot()").Scan(&snapshot).Error; err != nil {
			return fmt.Errorf("export database snapshot: %w", err)
		}
		if m.Tables, err = counts(tx); err != nil {
			return err
		}
		if m.Audit, err = auditHead(tx); err != nil {
			return err
		}
		return runTool(ctx, env, "pg_dump", "--format=custom", "--snapshot="+snapshot, "--file="+file, "--dbname="+target)
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
}

// pgRestore loads a custom-format dump into the (empty) database in one
// transaction, so a failed restore leaves nothing behind. Objects are owned
// by the user restoring, whoever owned them before.
func pgRestore(ctx context.Context, dsn, file string) error {
	target, env, err := pgTarget(dsn)
	if err != nil {
		return err
	}
	return runTool(ctx, env, "pg_restore", "--no-owner", "--exit-on-error", "--single-transaction", "--dbname="+target, file)
}
