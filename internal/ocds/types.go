package ocds

// The OCDS 1.1 shapes the portal publishes: only the fields it fills in,
// each omitted when empty so that a release holds only what it says.

// Release is one OCDS release: what was known about a contracting process
// at one moment.
type Release struct {
	OCID             string           `json:"ocid"`
	ID               string           `json:"id"`
	Date             string           `json:"date"`
	Tag              []string         `json:"tag"`
	InitiationType   string           `json:"initiationType"`
	Language         string           `json:"language,omitempty"`
	Parties          []Organization   `json:"parties,omitempty"`
	Buyer            *OrgRef          `json:"buyer,omitempty"`
	Tender           *Tender          `json:"tender,omitempty"`
	Awards           []Award          `json:"awards,omitempty"`
	Contracts        []Contract       `json:"contracts,omitempty"`
	RelatedProcesses []RelatedProcess `json:"relatedProcesses,omitempty"`
}

// Organization is a party to the process.
type Organization struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	Identifier *Identifier `json:"identifier,omitempty"`
	Address    *Address    `json:"address,omitempty"`
	Roles      []string    `json:"roles,omitempty"`
}

// Identifier is an organisation's identifier in a registered scheme.
type Identifier struct {
	Scheme    string `json:"scheme"`
	ID        string `json:"id"`
	LegalName string `json:"legalName,omitempty"`
}

// Address is what the portal knows of where an organisation is.
type Address struct {
	Region      string `json:"region,omitempty"`
	CountryName string `json:"countryName,omitempty"`
}

// OrgRef points at a party.
type OrgRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Tender is the tender section.
type Tender struct {
	ID                       string      `json:"id"`
	Title                    string      `json:"title,omitempty"`
	Description              string      `json:"description,omitempty"`
	Status                   string      `json:"status,omitempty"`
	ProcuringEntity          *OrgRef     `json:"procuringEntity,omitempty"`
	Items                    []Item      `json:"items,omitempty"`
	ProcurementMethod        string      `json:"procurementMethod,omitempty"`
	ProcurementMethodDetails string      `json:"procurementMethodDetails,omitempty"`
	MainProcurementCategory  string      `json:"mainProcurementCategory,omitempty"`
	AwardCriteria            string      `json:"awardCriteria,omitempty"`
	AwardCriteriaDetails     string      `json:"awardCriteriaDetails,omitempty"`
	SubmissionMethod         []string    `json:"submissionMethod,omitempty"`
	TenderPeriod             *Period     `json:"tenderPeriod,omitempty"`
	EnquiryPeriod            *Period     `json:"enquiryPeriod,omitempty"`
	AwardPeriod              *Period     `json:"awardPeriod,omitempty"`
	ContractPeriod           *Period     `json:"contractPeriod,omitempty"`
	NumberOfTenderers        *int        `json:"numberOfTenderers,omitempty"`
	Amendments               []Amendment `json:"amendments,omitempty"`
	// Lots and Techniques come from the lots and techniques extensions.
	Lots       []Lot       `json:"lots,omitempty"`
	Techniques *Techniques `json:"techniques,omitempty"`
}

// Lot is a lot of a framework (lots extension).
type Lot struct {
	ID          string `json:"id"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Status      string `json:"status,omitempty"`
}

// Techniques says the process sets up a framework agreement (techniques
// extension).
type Techniques struct {
	HasFrameworkAgreement bool `json:"hasFrameworkAgreement"`
}

// Item is a line of what is bought: a line of a buying trust's price
// schedule, without any price.
type Item struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	Quantity    int64  `json:"quantity,omitempty"`
	Unit        *Unit  `json:"unit,omitempty"`
}

// Unit is what an item is counted in.
type Unit struct {
	Name string `json:"name"`
}

// Amendment is a change to the tender after publication.
type Amendment struct {
	ID          string `json:"id"`
	Date        string `json:"date,omitempty"`
	Rationale   string `json:"rationale,omitempty"`
	Description string `json:"description,omitempty"`
}

// Award is an award: to the appointed suppliers of a framework lot, or to
// a competition's winner.
type Award struct {
	ID             string   `json:"id"`
	Title          string   `json:"title,omitempty"`
	Status         string   `json:"status,omitempty"`
	Date           string   `json:"date,omitempty"`
	Value          *Value   `json:"value,omitempty"`
	Suppliers      []OrgRef `json:"suppliers,omitempty"`
	ContractPeriod *Period  `json:"contractPeriod,omitempty"`
	// RelatedLots comes from the lots extension.
	RelatedLots []string `json:"relatedLots,omitempty"`
}

// Contract is a buying trust's contract.
type Contract struct {
	ID               string           `json:"id"`
	AwardID          string           `json:"awardID"`
	Title            string           `json:"title,omitempty"`
	Description      string           `json:"description,omitempty"`
	Status           string           `json:"status,omitempty"`
	Period           *Period          `json:"period,omitempty"`
	Value            *Value           `json:"value,omitempty"`
	DateSigned       string           `json:"dateSigned,omitempty"`
	RelatedProcesses []RelatedProcess `json:"relatedProcesses,omitempty"`
}

// Value is an amount of money.
type Value struct {
	Amount   float64 `json:"amount"`
	Currency string  `json:"currency"`
}

// Period is a span of time; either end may be missing.
type Period struct {
	StartDate     string `json:"startDate,omitempty"`
	EndDate       string `json:"endDate,omitempty"`
	MaxExtentDate string `json:"maxExtentDate,omitempty"`
}

// RelatedProcess links another contracting process.
type RelatedProcess struct {
	ID           string   `json:"id"`
	Relationship []string `json:"relationship"`
	Title        string   `json:"title,omitempty"`
	Scheme       string   `json:"scheme"`
	Identifier   string   `json:"identifier"`
	URI          string   `json:"uri,omitempty"`
}

// Publisher names who publishes a package.
type PackagePublisher struct {
	Name string `json:"name"`
	URI  string `json:"uri,omitempty"`
}

// ReleasePackage is a package of releases.
type ReleasePackage struct {
	URI           string           `json:"uri"`
	Version       string           `json:"version"`
	Extensions    []string         `json:"extensions,omitempty"`
	PublishedDate string           `json:"publishedDate"`
	Publisher     PackagePublisher `json:"publisher"`
	License       string           `json:"license,omitempty"`
	Releases      []Release        `json:"releases"`
}

// LinkedRelease points at a release in its package.
type LinkedRelease struct {
	URL  string   `json:"url"`
	Date string   `json:"date"`
	Tag  []string `json:"tag"`
}

// Record is every release of one process, linked, and the compiled
// release merged from them.
type Record struct {
	OCID            string          `json:"ocid"`
	Releases        []LinkedRelease `json:"releases"`
	CompiledRelease map[string]any  `json:"compiledRelease"`
}

// RecordPackage is a package of records.
type RecordPackage struct {
	URI           string           `json:"uri"`
	Version       string           `json:"version"`
	Extensions    []string         `json:"extensions,omitempty"`
	PublishedDate string           `json:"publishedDate"`
	Publisher     PackagePublisher `json:"publisher"`
	License       string           `json:"license,omitempty"`
	Packages      []string         `json:"packages,omitempty"`
	Records       []Record         `json:"records"`
}
