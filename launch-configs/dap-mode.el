;;; relay-dap for Emacs dap-mode: load this after dap-mode (for example from your init file),
;;; with `relay-dap' on your PATH. Then M-x dap-debug and pick a relay-dap template.

(require 'dap-mode)

;; Use by default: dap-mode starts relay-dap and speaks DAP over its stdin/stdout.
(dap-register-debug-provider
 "relay"
 (lambda (conf)
   (plist-put conf :dap-server-path '("relay-dap"))
   conf))

(dap-register-debug-template
 "relay-dap: run a command"
 (list :type "relay"
       :request "launch"
       :name "relay-dap: run a command"
       :command "make test"
       :stopOnEntry t))

(dap-register-debug-template
 "relay-dap: this job file or workflow"
 (list :type "relay"
       :request "launch"
       :name "relay-dap: this job file or workflow"
       :program nil ; dap-mode asks for the file when nil
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
       :debugPort 4711
       :command "make test"))

(provide 'relay-dap)
;;; dap-mode.el ends here
