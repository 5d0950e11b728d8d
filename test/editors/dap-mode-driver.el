;;; dap-mode-driver.el --- plays a user of dap-mode through the scenario of editorHarness.ts  -*- lexical-binding: t -*-
;;
;; Run as: emacs --batch -l dap-mode-driver.el, with RELAY_TEST_* in the environment. Loads the
;; shipped launch-configs/dap-mode.el as a user's init file would, starts the named template on
;; the job file, and does what a user does: the console (M-x dap-ui-repl), Next, Continue, Stop.
;; Writes what it saw as JSON to $RELAY_TEST_RESULT, then waits for $RELAY_TEST_RESULT.ack (the
;; test looks for left-over processes while Emacs still runs) before it exits.

(require 'cl-lib)
(require 'json)
(load (getenv "RELAY_TEST_CONFIG") nil t)

(defvar relay-test-events nil "Events as dap-mode dispatched them: (event reason), newest first.")
(defvar relay-test-problems nil)

(advice-add 'dap--on-event :before
            (lambda (_session event)
              (let ((body (gethash "body" event)))
                (push (list (gethash "event" event)
                            (and (hash-table-p body) (or (gethash "reason" body) (gethash "exitCode" body))))
                      relay-test-events))))

(defun relay-test-finish (problem)
  "Write the result (with PROBLEM, if any), wait for the test's ack, exit."
  (when problem (push problem relay-test-problems))
  (let* ((session (car (dap--get-sessions)))
         (output (and session (dap--debug-session-output-buffer session)))
         (repl (and (boundp (quote dap-ui--repl-buffer)) (get-buffer dap-ui--repl-buffer)))
         (result (getenv "RELAY_TEST_RESULT")))
    (with-temp-file result
      (insert (json-encode
               `((events . ,(vconcat (mapcar #'vconcat (reverse relay-test-events))))
                 (problems . ,(vconcat (reverse relay-test-problems)))
                 (output . ,(if (buffer-live-p output) (with-current-buffer output (buffer-string)) ""))
                 (repl . ,(if (buffer-live-p repl) (with-current-buffer repl (buffer-string)) ""))
                 (state . ,(and session (symbol-name (dap--debug-session-state session))))
                 (pendingResponses . ,(if session
                                          (hash-table-count (dap--debug-session-response-handlers session))
                                        -1))
                 (adapterAlive . ,(if (and session (process-live-p (dap--debug-session-proc session))) t :json-false))))))
    (let ((deadline (+ (float-time) 120)))
      (while (and (not (file-exists-p (concat result ".ack"))) (< (float-time) deadline))
        (accept-process-output nil 0.05)))
    (kill-emacs 0)))

(defun relay-test-wait (what predicate &optional seconds)
  "Let Emacs run (process output, timers) until PREDICATE holds; give up after SECONDS."
  (let ((deadline (+ (float-time) (or seconds 60))))
    (while (and (not (funcall predicate)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (unless (funcall predicate)
      (relay-test-finish (format "timed out waiting for %s" what)))))

(defun relay-test-seen (event &optional reason)
  (cl-count-if (lambda (e) (and (equal (car e) event) (or (null reason) (equal (cadr e) reason))))
               relay-test-events))

(condition-case err
    (let* ((template (copy-tree (cdr (assoc (getenv "RELAY_TEST_TEMPLATE") dap-debug-template-configurations))))
           (port (getenv "RELAY_TEST_PORT"))
           session)
      (unless template (relay-test-finish "no such template"))
      ;; The fixed-port template names 4711; the test's adapter listens on a free port instead.
      (when port (setq template (plist-put template :debugServer (string-to-number port))))
      (find-file (getenv "RELAY_TEST_JOB"))
      (goto-char (point-min))
      (forward-line (1- (string-to-number (getenv "RELAY_TEST_LINE"))))
      (dap-breakpoint-add)
      (dap-debug template)
      (setq session (dap--cur-session))
      (relay-test-wait "the pause on entry" (lambda () (> (relay-test-seen "stopped" "entry") 0)))
      (relay-test-wait "the paused frame" (lambda () (dap--debug-session-active-frame session)))
      ;; The debug console, as typed by a user.
      (dap-ui-repl)
      (with-current-buffer dap-ui--repl-buffer
        (goto-char (point-max))
        (insert (concat "!echo " (getenv "RELAY_TEST_CONSOLE")))
        (comint-send-input))
      (relay-test-wait "the console command's output"
                       (lambda ()
                         (with-current-buffer (dap--debug-session-output-buffer session)
                           (string-match-p (regexp-quote (concat (getenv "RELAY_TEST_CONSOLE") "\n")) (buffer-string)))))
      (relay-test-wait "the console command's result"
                       (lambda () (with-current-buffer dap-ui--repl-buffer (string-match-p "exit 0" (buffer-string)))))
      (dap-next session)
      (relay-test-wait "the pause after Next" (lambda () (> (relay-test-seen "stopped" "step") 0)))
      (relay-test-wait "the paused frame" (lambda () (dap--debug-session-active-frame session)))
      (dap-continue session (dap--debug-session-thread-id session))
      (relay-test-wait "the breakpoint" (lambda () (> (relay-test-seen "stopped" "breakpoint") 0)))
      (relay-test-wait "the paused frame" (lambda () (dap--debug-session-active-frame session)))
      (dap-continue session (dap--debug-session-thread-id session))
      (relay-test-wait "the failed-step pause" (lambda () (> (relay-test-seen "stopped" "exception") 0)))
      (relay-test-wait "the paused frame" (lambda () (dap--debug-session-active-frame session)))
      ;; Stop.
      (dap-disconnect session)
      (relay-test-wait "the session to end"
                       (lambda () (and (eq (dap--debug-session-state session) 'terminated)
                                       (= 0 (hash-table-count (dap--debug-session-response-handlers session))))))
      (relay-test-finish nil))
  (error (relay-test-finish (format "error: %S" err))))
