package app

import (
	"context"
	"fmt"

	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/documents"
)

// DocumentBackend opens the storage the configuration names for encrypted
// documents: the local folder, or the S3 bucket (whose existence it
// checks). The portal and `portal backup check` both open it here, so they
// read the same store.
func DocumentBackend(ctx context.Context, cfg config.Config) (documents.Backend, error) {
	switch cfg.DocumentsBackend {
	case config.DocumentsS3:
		s3, err := documents.NewS3(ctx, documents.S3Config{
			Endpoint: cfg.S3.Endpoint, Region: cfg.S3.Region, Bucket: cfg.S3.Bucket,
			AccessKey: cfg.S3.AccessKey, SecretKey: cfg.S3.SecretKey, UseSSL: cfg.S3.TLS, Prefix: cfg.S3.Prefix,
		})
		if err != nil {
			return nil, fmt.Errorf("document store (PORTAL_S3_*): %w", err)
		}
		return s3, nil
	case config.DocumentsLocal, "":
		local, err := documents.NewLocal(cfg.DocumentsDir)
		if err != nil {
			return nil, fmt.Errorf("document folder %s: %w", cfg.DocumentsDir, err)
		}
		return local, nil
	}
	return nil, fmt.Errorf("unknown documents backend %q (PORTAL_DOCUMENTS_BACKEND)", cfg.DocumentsBackend)
}
