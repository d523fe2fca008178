package health

import (
	"bytes"
	"embed"
	"net/http"
	"time"
)

// static holds the status page: plain HTML, CSS and JavaScript, no build
// step and nothing fetched from elsewhere.
//
//go:embed static/index.html static/app.js static/style.css static/favicon.svg
var static embed.FS

// pageTime is the modification time the embedded files are served with.
var pageTime = time.Unix(0, 0)

// servePage serves the status page.
func servePage(w http.ResponseWriter, r *http.Request) { serveFile(w, r, "index.html") }

// serveStatic serves the page's script, style sheet and icon, and
// nothing else.
func serveStatic(w http.ResponseWriter, r *http.Request) {
	switch name := r.PathValue("file"); name {
	case "app.js", "style.css", "favicon.svg":
		serveFile(w, r, name)
	default:
		http.NotFound(w, r)
	}
}

func serveFile(w http.ResponseWriter, r *http.Request, name string) {
	b, err := static.ReadFile("static/" + name)
	if err != nil { // the embed directive lists every name served
		http.Error(w, "health: page file "+name+" missing from the binary", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, pageTime, bytes.NewReader(b))
}
