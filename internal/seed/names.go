package seed

// Word lists the made-up names are drawn from. They read like the names
// of English trusts, consortia and health-technology suppliers without
// being any real one.
var (
	places = []string{"Ashford", "Barnwood", "Calder", "Derwent", "Eskdale", "Fenwick", "Greystoke", "Hartside", "Ingleby",
		"Kielder", "Langdale", "Marsden", "Northam", "Ouseburn", "Penrith", "Quantock", "Ribble", "Severn", "Tamar", "Ullswater",
		"Wensley", "Yarrow", "Avonmere", "Blackdown", "Chiltern", "Dunmore", "Exmoor", "Forest Vale", "Glendale", "Hambleton"}
	trustKinds = []string{"Hospitals NHS Foundation Trust", "Community Healthcare NHS Trust", "University Hospitals NHS Trust",
		"Partnership NHS Foundation Trust", "Teaching Hospitals NHS Foundation Trust"}
	consortiumKinds = []string{"Clinical Systems Consortium", "Digital Health Collaborative", "EPR Consortium",
		"Imaging Network", "Shared Services Partnership"}
	supplierStems = []string{"Meridian", "Northgate", "Albion", "Thameside", "Caldicott", "Beacon", "Keystone", "Lantern", "Summit",
		"Harbour", "Orchard", "Pennine", "Riverside", "Sentinel", "Trident", "Vantage", "Willow", "Zenith", "Aurora", "Bridgewater",
		"Cobalt", "Evergreen", "Granite", "Horizon", "Ironbridge", "Juniper", "Kestrel", "Lighthouse", "Mosaic", "Nimbus"}
	supplierFields = []string{"Health Systems", "Clinical Software", "Digital Care", "Imaging", "Cloud Hosting", "Health Informatics",
		"Medical Records", "Care Technologies", "Health Analytics", "Integration Services"}
	supplierSuffixes = []string{"Ltd", "Limited", "UK Ltd", "Group Ltd"}
	givenNames       = []string{"Aisha", "Ben", "Chloe", "Daniel", "Emma", "Farah", "George", "Hannah", "Imran", "Jess", "Kofi",
		"Laura", "Mohammed", "Niamh", "Oliver", "Priya", "Rachel", "Samuel", "Tara", "Usman", "Victoria", "William", "Yusuf", "Zoe"}
	familyNames = []string{"Adams", "Bennett", "Clarke", "Dhillon", "Evans", "Fletcher", "Grant", "Hughes", "Iqbal", "Jones",
		"Kaur", "Lewis", "Morgan", "Nwosu", "Owen", "Patel", "Quinn", "Robinson", "Singh", "Taylor", "Walsh", "Young"}
	// systems are what frameworks buy, with the lots each is divided into.
	systems = []struct {
		Title string
		Lots  []string
	}{
		{"Electronic patient record systems", []string{"Acute EPR", "Mental health and community EPR", "Implementation and data migration"}},
		{"Picture archiving and communication systems", []string{"PACS and vendor-neutral archive", "Radiology information systems", "Image sharing"}},
		{"Patient administration systems", []string{"Acute PAS", "Community PAS", "Integration engines"}},
		{"Clinical portals and shared care records", []string{"Clinical portal", "Shared care record", "Patient portal"}},
		{"Hosting and data centre services", []string{"Private cloud hosting", "Public cloud migration", "Disaster recovery"}},
		{"Theatre and critical care systems", []string{"Theatre management", "Critical care charting", "Anaesthesia records"}},
		{"Maternity and child health systems", []string{"Maternity information systems", "Child health records", "Neonatal systems"}},
		{"Electronic prescribing and medicines administration", []string{"Inpatient ePMA", "Outpatient e-prescribing", "Pharmacy stock control"}},
	}
)
