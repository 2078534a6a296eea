package notify

// Kind is one sort of notification. Every kind has three email templates in
// views/email (<name>.subject.txt, <name>.txt and <name>.html) and a row on
// each person's preferences page.
type Kind struct {
	// Name is the stable identifier stored with notifications and
	// preferences; never rename one that has been used.
	Name string
	// Label names the kind on the preferences page ("Deadline changes").
	Label string
	// Description says in a sentence when it is sent.
	Description string
	// Legal notices are part of the procurement's legal record: they are
	// always emailed and always shown in the portal, whatever the person's
	// preferences.
	Legal bool
	// Data lists the keys the templates read from Notify's data map; every
	// key must be given (templates fail on a missing key). Dates may be
	// time.Time values; templates format them with date and datetime.
	Data []string
}

// Names of the kinds, for callers of Notify.
const (
	KindAwardLetter           = "award_letter"
	KindStandstillNotice      = "standstill_notice"
	KindDeadlineChange        = "deadline_change"
	KindProcurementChange     = "procurement_change"
	KindInvitation            = "invitation"
	KindFrameworkInvitation   = "framework_invitation"
	KindFrameworkUpdate       = "framework_update"
	KindClarificationAnswered = "clarification_answered"
	KindBidReceipt            = "bid_receipt"
	KindRoleChanged           = "role_changed"
	KindTestMessage           = "test_message"
	KindAssessmentSummary     = "assessment_summary"
	KindApprovalReminder      = "approval_reminder"
	KindAwardUpdate           = "award_update"
	KindContractExpiry        = "contract_expiry"
)

// Kinds lists every kind in the order the preferences page shows them:
// legal notices first.
var Kinds = []Kind{
	{
		Name: KindAwardLetter, Label: "Award decisions", Legal: true,
		Description: "Whether your organisation won a contract it bid for, and why.",
		Data:        []string{"Procurement", "Organisation", "Successful", "Reasons", "StandstillEnds"},
	},
	{
		Name: KindStandstillNotice, Label: "Standstill notices", Legal: true,
		Description: "The start of the standstill period before a contract is signed, during which a decision can be challenged.",
		Data:        []string{"Procurement", "AwardedTo", "StandstillEnds"},
	},
	{
		Name: KindDeadlineChange, Label: "Deadline changes", Legal: true,
		Description: "A buyer changed the closing date of a procurement you are taking part in.",
		Data:        []string{"Procurement", "OldDeadline", "NewDeadline", "Reason"},
	},
	{
		Name: KindProcurementChange, Label: "Changes to procurements", Legal: true,
		Description: "A buyer changed the requirements or documents of a procurement you are taking part in or cancelled it, or your bid could not be opened.",
		Data:        []string{"Procurement", "Change"},
	},
	{
		Name: KindAssessmentSummary, Label: "Award decisions with assessment summaries", Legal: true,
		Description: "The award decision of a competition your organisation bid in, with your scores against the winning bid's.",
		Data:        []string{"Procurement", "Organisation", "Successful", "Winner", "Criteria", "Own", "Winning", "Reasons", "StandstillEnds", "Regime"},
	},
	{
		Name: KindInvitation, Label: "Invitations to bid",
		Description: "A buyer invited your organisation to bid in a procurement.",
		Data:        []string{"Procurement", "Buyer", "Deadline"},
	},
	{
		Name: KindFrameworkInvitation, Label: "Invitations to apply to a framework",
		Description: "A consortium invited your organisation to apply to join a framework agreement.",
		Data:        []string{"Framework", "Consortium", "Deadline"},
	},
	{
		Name: KindFrameworkUpdate, Label: "Framework updates",
		Description: "A framework agreement you take part in opened, closed, went live or changed in another way.",
		Data:        []string{"Framework", "Update"},
	},
	{
		Name: KindClarificationAnswered, Label: "Clarification answers",
		Description: "A buyer answered a clarification question in a procurement you are taking part in.",
		Data:        []string{"Procurement", "Question", "Answer"},
	},
	{
		Name: KindBidReceipt, Label: "Bid receipts",
		Description: "Confirmation that the portal received your organisation's bid.",
		Data:        []string{"What", "Procurement", "Organisation", "SubmittedAt", "Reference"},
	},
	{
		Name: KindApprovalReminder, Label: "Award approvals",
		Description: "An award recommended to your trust's board needs your decision, and reminders before the approval date.",
		Data:        []string{"Procurement", "Trust", "Due", "Reminder"},
	},
	{
		Name: KindAwardUpdate, Label: "Award updates",
		Description: "A board decided on an award you lead, or an award you take part in was confirmed.",
		Data:        []string{"Procurement", "Update"},
	},
	{
		Name: KindContractExpiry, Label: "Contracts nearing their end",
		Description: "A contract of your trust ends within 18, 12 or 6 months, so it is time to plan its extension or replacement.",
		Data:        []string{"Contract", "Trust", "Supplier", "LastDay", "Months"},
	},
	{
		Name: KindRoleChanged, Label: "Role changes",
		Description: "You were given a role in an organisation, or a role was removed.",
		Data:        []string{"Organisation", "Role", "Added", "ChangedBy"},
	},
	{
		Name: KindTestMessage, Label: "Test messages",
		Description: "An administrator checked that the portal's email reaches you.",
		Data:        []string{"SentBy"},
	},
}

// KindByName returns the kind called name.
func KindByName(name string) (Kind, bool) {
	for _, k := range Kinds {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// KindLabel is the plain-English name of a kind, or the name itself.
func KindLabel(name string) string {
	if k, ok := KindByName(name); ok {
		return k.Label
	}
	return name
}
