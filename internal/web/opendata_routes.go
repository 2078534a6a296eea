package web

import "net/http"

// openDataRoutes declares the open data (OCDS) endpoints: public JSON for
// anyone, without signing in, and the page that explains them.
func (s *Server) openDataRoutes(add adders) {
	get := http.MethodGet
	add.pub(get, "/open-data", (*Server).openDataPage)
	add.pub(get, "/ocds/releases", (*Server).ocdsReleasesPage)
	add.pub(get, "/ocds/releases/:ocid", (*Server).ocdsReleases)
	add.pub(get, "/ocds/records/:ocid", (*Server).ocdsRecord)
	add.pub(get, "/ocds/bulk.json", (*Server).ocdsBulk)
}
