complete -c rtail -s c -l bytes -d 'Output the last NUM bytes; -c +NUM: from byte NUM on' -r
complete -c rtail -s n -l lines -d 'Output the last NUM lines (default 10); -n +NUM: from line NUM on' -r
complete -c rtail -l since -d 'Output the records stamped at WHEN or later (10m, 1h30m, 10:00…)' -r
complete -c rtail -l color -l colour -d 'When to colour level words, matches and headers' -r -f -a "auto\t'Colour when stdout is a terminal (see NO_COLOR, CLICOLOR_FORCE)'
always\t'Always colour'
never\t'Never colour'"
complete -c rtail -l record-start -d 'Records start at lines matching REGEX (implies --multiline)' -r
complete -c rtail -l merge-window -d 'Following with --merge: how long a record waits (default 200ms)' -r
complete -c rtail -s f -l follow -d 'Output appended data as the file grows' -r -f -a "descriptor\t'Follow the open file descriptor'
name\t'Follow the file name, reopening it after rotation'"
complete -c rtail -s s -l sleep-interval -d 'Seconds between polls, where polling is needed (default 1.0)' -r
complete -c rtail -l max-unchanged-stats -d 'Accepted for GNU compatibility' -r
complete -c rtail -l pid -d 'With -f: end after process PID dies (repeatable)' -r
complete -c rtail -s g -l grep -d 'Print only lines matching REGEX (repeatable: lines matching any)' -r
complete -c rtail -s x -l exclude -d 'Do not print lines matching REGEX (repeatable)' -r
complete -c rtail -l until -d 'Exit 0 right after printing the first line matching REGEX' -r
complete -c rtail -l timeout -d 'Give up after DURATION (500ms, 30s, 2m, 1h): exit 124' -r
complete -c rtail -l idle-timeout -d 'Exit 0 once no file has produced a new line for DURATION' -r
complete -c rtail -l serve -d 'Also show the lines live in a browser, on ADDR (default 127.0.0.1:7117)' -r
complete -c rtail -l serve-token -d 'The token the web view requires (also RTAIL_SERVE_TOKEN)' -r
complete -c rtail -l generate -d 'Print the man page or a shell completion script, and exit' -r -f -a "man\t'The man page (roff), as in man/rtail.1'
complete-bash\t'Bash completion script'
complete-zsh\t'Zsh completion script'
complete-fish\t'Fish completion script'
complete-powershell\t'PowerShell completion script'
complete-elvish\t'Elvish completion script'"
complete -c rtail -l number -d 'Number each line as grep -n does (line_number in --json)'
complete -c rtail -s q -l quiet -l silent -d 'Never print headers giving file names'
complete -c rtail -s v -l verbose -d 'Always print headers giving file names'
complete -c rtail -s z -l zero-terminated -d 'Line delimiter is NUL, not newline'
complete -c rtail -s P -l prefix -d 'Print NAME: before every line instead of ==> NAME <== headers'
complete -c rtail -l history -d 'Take the lines -n lacks from rotated files (app.log.1, .2.gz, ...)'
complete -c rtail -l multiline -d 'Group continuation lines with the line that starts the record'
complete -c rtail -l merge -d 'Print the records of all FILEs in one stream, ordered by time'
complete -c rtail -l json -d 'Print one JSON object per line and per notice instead of text'
complete -c rtail -s F -d 'Same as --follow=name --retry: the right choice for logs'
complete -c rtail -l retry -d 'Keep trying to open a file that is missing or unreadable'
complete -c rtail -l poll -d 'Poll with stat instead of change notifications'
complete -c rtail -s i -l ignore-case -d 'Match --grep, --exclude and --until without regard to case'
complete -c rtail -l serve-once -d 'End when the last viewer has left (after one came); implies --serve'
complete -c rtail -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rtail -s V -l version -d 'Print version'
