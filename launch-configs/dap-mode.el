;;; relay-dap for Emacs dap-mode: load this after dap-mode (for example from your init file),
;;; with `relay-dap' on your PATH. Then M-x dap-debug and pick a relay-dap template.
;;; Shell commands go in the debug console (M-x dap-ui-repl): !ls -la

(require 'dap-mode)
;; dap-mode reads `dap-exception-breakpoints', which dap-ui defines: without it the first
;; breakpoint (or the failed-step pause) stops the session with a void-variable error.
(require 'dap-ui)

;; Use by default: dap-mode starts relay-dap and speaks DAP over its stdin/stdout. A template
;; with :debugServer (a port) and :host connects to an adapter already listening there instead.
(dap-register-debug-provider
 "relay"
 (lambda (conf)
   (unless (plist-get conf :debugServer)
     (plist-put conf :dap-server-path '("relay-dap")))
   conf))

(dap-register-debug-template
 "relay-dap: run a command"
 (list :type "relay"
       :request "launch"
       :name "relay-dap: run a command"
       :command "make test"
       :stopOnEntry t))

;; dap-mode expands ${file} to the file of the current buffer when you start the session.
(dap-register-debug-template
 "relay-dap: this job file or workflow"
 (list :type "relay"
       :request "launch"
       :name "relay-dap: this job file or workflow"
       :program "${file}"
       :stopOnEntry t))

(dap-register-debug-template
 "relay-dap: attach to a relay"
 (list :type "relay"
       :request "attach"
       :name "relay-dap: attach to a relay"
       :relayDir (expand-file-name ".relay" default-directory)))

;; Use to connect to an adapter already listening on TCP (npm start: 4711).
(dap-register-debug-template
 "relay-dap: through the adapter on port 4711"
 (list :type "relay"
       :request "launch"
       :name "relay-dap: through the adapter on port 4711"
       :host "127.0.0.1"
       :debugServer 4711
       :program "${file}"
       :stopOnEntry t))

(provide 'relay-dap)
;;; dap-mode.el ends here
