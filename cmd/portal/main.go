// Command portal runs the NHS collaborative procurement portal.
//
//	portal serve          start the web portal (migrates first)
//	portal migrate        apply database migrations and exit
//	portal seed --demo    load the demo organisations and users (idempotent)
//	portal seed --scale national [--seed N]
//	                      load a national-size data set (docs/seed.md)
//	portal audit verify   check the audit log's hash chain
//	portal backup --to DIR, portal backup check, portal restore --from DIR
//	                      back up, check and restore (docs/backup.md)
//	portal config         print the configuration variables as a Markdown table
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/nhsprocure/portal/internal/app"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/jobs"
)

const usage = `usage: portal <command>

commands:
  serve          start the web portal (applies migrations first)
  migrate        apply database migrations and exit
  seed --demo    load the demo organisations and users (idempotent)
  seed --scale national|small [--seed N]
                 load a large made-up data set into an empty portal, the same for the same N (docs/seed.md)
  audit verify   check the audit log's hash chain; names the first broken entry
  backup --to DIR               write a backup (database and documents; not the master key) into DIR
  backup check [--against DIR]  check audit chain, documents and sealed receipts (and match a backup)
  restore --from DIR            restore a backup into an empty database and documents folder
  config         print every PORTAL_* variable with its default (Markdown)

Configuration comes only from PORTAL_* environment variables; see README.md.`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "portal:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, usage)
		return errors.New("no command given")
	}
	if args[0] == "config" {
		fmt.Print(config.Markdown())
		return nil
	}
	cfg, err := config.FromEnvironment()
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := newLogger(cfg)
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	switch args[0] {
	case "serve":
		log.Info("starting", cfg.Masked()...)
		if tuned, _ := app.TuneMemory(cfg.MemoryLimit); tuned {
			log.Info("garbage collector tuned", "memory_limit", cfg.MemoryLimit)
		}
		db, err := app.Open(cfg, log)
		if err != nil {
			return err
		}
		defer db.Close()
		a, err := app.New(ctx, cfg, db, app.Options{Logger: log})
		if err != nil {
			return err
		}
		return a.Run(ctx)
	case "migrate":
		db, err := app.Open(cfg, log)
		if err != nil {
			return err
		}
		defer db.Close()
		// The job queue's tables are River's own, migrated by River.
		if _, err := jobs.New(ctx, jobs.Config{DB: db, Logger: log}); err != nil {
			return fmt.Errorf("job queue tables: %w", err)
		}
		log.Info("database is up to date")
		return nil
	case "seed":
		return runSeed(ctx, cfg, log, args[1:])
	case "audit":
		if len(args) < 2 || args[1] != "verify" {
			return errors.New("usage: portal audit verify")
		}
		db, err := app.Open(cfg, log)
		if err != nil {
			return err
		}
		defer db.Close()
		n, brk, err := audit.Verify(ctx, db)
		if err != nil {
			return err
		}
		if brk != nil {
			fmt.Printf("audit chain BROKEN after %d good entries: %s\n", n, brk)
			return errors.New("audit chain broken")
		}
		fmt.Printf("audit chain intact: %d entries checked\n", n)
		return nil
	case "backup":
		return runBackup(ctx, cfg, args[1:])
	case "restore":
		return runRestore(ctx, cfg, args[1:])
	}
	fmt.Fprintln(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func newLogger(cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
