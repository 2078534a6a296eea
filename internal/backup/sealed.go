package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
)

// storedVersion is one sealed version as stored: its receipt and its
// encrypted content.
type storedVersion struct {
	ID           string
	SubmissionID string
	Number       int
	Kind         string
	ReceivedAt   time.Time
	SHA256       string `gorm:"column:sha256"`
	Content      []byte
	WrappedKey   []byte
}

// receiptKey names one version of one submission.
func receiptKey(submissionID string, number int) string {
	return submissionID + "/" + strconv.Itoa(number)
}

// auditedReceipt is what the audit entry of a submit, resubmit or
// withdrawal recorded about its receipt.
type auditedReceipt struct {
	Number     int    `json:"number"`
	SHA256     string `json:"sha256"`
	ReceivedAt string `json:"received_at"`
}

// auditedReceipts reads the receipts the audit log recorded, by submission
// and version number. The chain is verified separately, so these are what
// was written at the time.
func auditedReceipts(ctx context.Context, db *store.DB) (map[string]auditedReceipt, error) {
	var entries []audit.Entry
	err := db.WithContext(ctx).Select("seq, object_id, detail").
		Where("object_type = ? AND outcome = ? AND action IN ?", "sealed_submission", audit.Success,
			[]string{"sealed." + sealed.KindSubmit, "sealed." + sealed.KindResubmit, "sealed." + sealed.KindWithdraw}).
		Find(&entries).Error
	if err != nil {
		return nil, fmt.Errorf("read sealed receipts from the audit log: %w", err)
	}
	out := make(map[string]auditedReceipt, len(entries))
	for _, e := range entries {
		var a auditedReceipt
		if err := json.Unmarshal([]byte(e.Detail), &a); err != nil {
			return nil, fmt.Errorf("audit entry %d: %w", e.Seq, err)
		}
		out[receiptKey(e.ObjectID, a.Number)] = a
	}
	return out, nil
}

func checkSealed(ctx context.Context, db *store.DB, keys *documents.Keyring, r *Report) error {
	audited, err := auditedReceipts(ctx, db)
	if err != nil {
		return err
	}
	after := ""
	for {
		var rows []storedVersion
		err := db.WithContext(ctx).Table("sealed_versions").
			Select("id, submission_id, number, kind, received_at, sha256, content, wrapped_key").
			Where("id > ?", after).Order("id").Limit(batch).Find(&rows).Error
		if err != nil {
			return fmt.Errorf("read sealed versions: %w", err)
		}
		for _, v := range rows {
			what := fmt.Sprintf("receipt %d (%s) of sealed submission %s", v.Number, v.Kind, v.SubmissionID)
			if err := checkVersion(keys, v); err != nil {
				r.problem("%s: %v", what, err)
			}
			a, ok := audited[receiptKey(v.SubmissionID, v.Number)]
			at, _ := time.Parse(time.RFC3339Nano, a.ReceivedAt)
			switch {
			case !ok:
				r.problem("%s: the audit log has no entry for it", what)
			case a.SHA256 != v.SHA256:
				r.problem("%s: its SHA-256 is not the one its audit entry recorded", what)
			case !at.Equal(v.ReceivedAt):
				r.problem("%s: its time is not the one its audit entry recorded", what)
			}
			r.SealedVersions++
			after = v.ID
		}
		if len(rows) < batch {
			return nil
		}
	}
}

// checkVersion decrypts a sealed version and compares it with the SHA-256
// on its receipt, as opening the box does.
func checkVersion(keys *documents.Keyring, v storedVersion) error {
	plain, err := keys.Decrypt(bytes.NewReader(v.Content), v.WrappedKey, sealed.VersionAD(v.SubmissionID, v.Number))
	if err == nil {
		var content []byte
		content, err = io.ReadAll(plain)
		if err == nil && sealed.Hash(content) != v.SHA256 {
			return fmt.Errorf("its content does not match the SHA-256 on its receipt")
		}
	}
	if err != nil {
		return fmt.Errorf("it does not decrypt with this master key (is it the key the backup was made with?): %w", err)
	}
	return nil
}
