package domaintest

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// BaselinePoolSize is the baseline's number of connections: the portal's
// own PostgreSQL pool size (store.Open).
const BaselinePoolSize = 20

// PostgresBaseline runs the rush with the portal taken out: each supplier's
// work is one transaction, on a pool of BaselinePoolSize connections, that
// inserts its RushDocBytes document as a bytea row and a small bid row
// pointing at it into scratch tables of the PostgreSQL database at dsn,
// with arrivals spread as in the rush itself. Its latencies are what the
// database alone takes to store what a bid stores: the floor the portal's
// figures are compared with, measured on the same machine in the same run.
// The scratch tables are dropped afterwards.
func (r Rush) PostgresBaseline(ctx context.Context, dsn string) (RushResult, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return RushResult{}, fmt.Errorf("baseline: parse database URL: %w", err)
	}
	cfg.MaxConns = BaselinePoolSize
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return RushResult{}, fmt.Errorf("baseline: connect: %w", err)
	}
	defer pool.Close()
	const create = `
CREATE TABLE rush_baseline_documents (id bigserial PRIMARY KEY, name text NOT NULL, body bytea NOT NULL);
CREATE TABLE rush_baseline_bids (id bigserial PRIMARY KEY, supplier integer NOT NULL,
	document_id bigint NOT NULL REFERENCES rush_baseline_documents (id), submitted_at timestamptz NOT NULL DEFAULT now())`
	if _, err := pool.Exec(ctx, create); err != nil {
		return RushResult{}, fmt.Errorf("baseline: create scratch tables: %w", err)
	}
	defer func() {
		_, _ = pool.Exec(context.WithoutCancel(ctx), `DROP TABLE rush_baseline_bids, rush_baseline_documents`)
	}()

	docs := make([][]byte, r.Suppliers)
	res := r.Run(func(i int) { docs[i] = RushPDF(uint64(i)) }, func(i int) error { // #nosec G115 -- i is a supplier index from range, never negative
		defer func() { docs[i] = nil }()
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO rush_baseline_documents (name, body) VALUES ($1, $2) RETURNING id`,
				fmt.Sprintf("case-study-%03d.pdf", i), docs[i]).Scan(&id); err != nil {
				return fmt.Errorf("baseline: insert document %d: %w", i, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO rush_baseline_bids (supplier, document_id) VALUES ($1, $2)`, i, id); err != nil {
				return fmt.Errorf("baseline: insert bid %d: %w", i, err)
			}
			return nil
		})
	})
	var stored int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM rush_baseline_bids`).Scan(&stored); err != nil {
		return res, fmt.Errorf("baseline: count bids: %w", err)
	}
	if failed := res.Failed(); len(failed) > 0 || stored != r.Suppliers {
		return res, fmt.Errorf("baseline: %d of %d bids stored, %d errors (first: %v)", stored, r.Suppliers, len(failed), firstErr(failed))
	}
	return res, nil
}

func firstErr(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}
