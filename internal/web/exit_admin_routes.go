package web

import "net/http"

// exitAdminRoutes declares the exit tracker's administration: national
// contracts, the import of deployments and the rating rules.
func (s *Server) exitAdminRoutes(add adders) {
	get, post := http.MethodGet, http.MethodPost
	add.perm(get, "/exit/admin", "exit", "admin", (*Server).exitAdminPage)
	add.perm(get, "/exit/admin/national-contracts/new", "exit", "admin", (*Server).nationalContractNew)
	add.perm(post, "/exit/admin/national-contracts/new", "exit", "admin", (*Server).nationalContractCreate)
	add.perm(get, "/exit/admin/national-contracts/:id", "exit", "admin", (*Server).nationalContractEdit)
	add.perm(post, "/exit/admin/national-contracts/:id", "exit", "admin", (*Server).nationalContractSave)

	// Importing deployments: upload, check (nothing imported), confirm.
	add.perm(get, "/exit/admin/import", "exit", "admin", (*Server).exitImportPage)
	add.perm(get, "/exit/admin/import/template.csv", "exit", "admin", (*Server).exitImportTemplate)
	add.upload("/exit/admin/import", "exit", "admin", (*Server).exitImportUpload)
	add.perm(get, "/exit/admin/import/:doc", "exit", "admin", (*Server).exitImportCheck)
	add.perm(post, "/exit/admin/import/:doc", "exit", "admin", (*Server).exitImportConfirm)

	add.perm(get, "/exit/admin/rules", "exit", "admin", (*Server).exitRulesPage)
	add.perm(post, "/exit/admin/rules", "exit", "admin", (*Server).exitRulesSave)
}
