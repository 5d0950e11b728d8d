" Plays a user of vimspector through the scenario of editorHarness.ts, in Vim started by the
" test in tmux (vimspector needs a terminal) from the project holding the shipped
" vimspector.json as .vimspector.json. Follows the conversation in vimspector's own log
" (~/.vimspector.log: every message it received). Writes what it saw as JSON to
" $RELAY_TEST_RESULT, then waits for $RELAY_TEST_RESULT.ack and quits.
let s:result = $RELAY_TEST_RESULT
let s:problems = []
let s:stage = 0
let s:waited = 0

function! s:Log() abort
  let l:file = expand('~/.vimspector.log')
  return filereadable(l:file) ? join(readfile(l:file), "\n") : ''
endfunction

function! s:Stops() abort
  let l:stops = []
  call substitute(s:Log(), "'event': 'stopped', 'body': {'reason': '\\(\\w\\+\\)'", '\=add(l:stops, submatch(1))', 'g')
  return l:stops
endfunction

function! s:Console() abort
  let l:buf = bufnr('vimspector.Console')
  return l:buf < 0 ? '' : join(getbufline(l:buf, 1, '$'), "\n")
endfunction

function! s:Finish(problem) abort
  if a:problem !=# ''
    call add(s:problems, a:problem)
  endif
  let l:events = map(s:Stops(), {_, reason -> ['stopped', reason]})
  call writefile([json_encode({'events': l:events, 'problems': s:problems, 'output': s:Console() . "\n",
        \ 'disconnectAnswered': s:Log() =~# "'command': 'disconnect', 'success': True"})], s:result)
  let s:stage = 100
endfunction

" Each stage waits for its condition, then acts once and moves on.
let s:stages = [
      \ ['the pause on entry', {-> s:Stops() == ['entry']}, {-> vimspector#EvaluateConsole('!echo ' . $RELAY_TEST_CONSOLE)}],
      \ ["the console command's output", {-> s:Console() =~# $RELAY_TEST_CONSOLE && s:Console() =~# 'exit 0'}, {-> vimspector#StepOver()}],
      \ ['the pause after Next', {-> s:Stops() == ['entry', 'step']}, {-> vimspector#Continue()}],
      \ ['the breakpoint', {-> s:Stops() == ['entry', 'step', 'breakpoint']}, {-> vimspector#Continue()}],
      \ ['the failed-step pause', {-> s:Stops() == ['entry', 'step', 'breakpoint', 'exception']}, {-> vimspector#Stop()}],
      \ ['the answer to disconnect', {-> s:Log() =~# "'command': 'disconnect', 'success': True"}, {-> s:Finish('')}],
      \ ]

function! s:Tick(timer) abort
  if s:stage >= 100
    if filereadable(s:result . '.ack')
      call timer_stop(a:timer)
      qa!
    endif
    return
  endif
  let [l:what, l:Ready, l:Act] = s:stages[s:stage]
  if l:Ready()
    let s:stage += 1
    let s:waited = 0
    try
      call l:Act()
    catch
      call s:Finish('error: ' . v:exception)
    endtry
  else
    let s:waited += 1
    if s:waited > 1200
      call s:Finish('timed out waiting for ' . l:what)
    endif
  endif
endfunction

execute 'edit ' . fnameescape($RELAY_TEST_JOB)
call vimspector#SetLineBreakpoint($RELAY_TEST_JOB, str2nr($RELAY_TEST_LINE))
call vimspector#LaunchWithSettings({'configuration': 'relay-dap: this job file or workflow'})
call timer_start(50, function('s:Tick'), {'repeat': -1})
