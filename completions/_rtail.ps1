
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'rtail' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'rtail'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'rtail' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Output the last NUM bytes; -c +NUM: from byte NUM on')
            [CompletionResult]::new('--bytes', '--bytes', [CompletionResultType]::ParameterName, 'Output the last NUM bytes; -c +NUM: from byte NUM on')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Output the last NUM lines (default 10); -n +NUM: from line NUM on')
            [CompletionResult]::new('--lines', '--lines', [CompletionResultType]::ParameterName, 'Output the last NUM lines (default 10); -n +NUM: from line NUM on')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Output the records stamped at WHEN or later (10m, 1h30m, 10:00…)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour level words, matches and headers')
            [CompletionResult]::new('--colour', '--colour', [CompletionResultType]::ParameterName, 'When to colour level words, matches and headers')
            [CompletionResult]::new('--record-start', '--record-start', [CompletionResultType]::ParameterName, 'Records start at lines matching REGEX (implies --multiline)')
            [CompletionResult]::new('--merge-window', '--merge-window', [CompletionResultType]::ParameterName, 'Following with --merge: how long a record waits (default 200ms)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Output appended data as the file grows')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Output appended data as the file grows')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Seconds between polls, where polling is needed (default 1.0)')
            [CompletionResult]::new('--sleep-interval', '--sleep-interval', [CompletionResultType]::ParameterName, 'Seconds between polls, where polling is needed (default 1.0)')
            [CompletionResult]::new('--max-unchanged-stats', '--max-unchanged-stats', [CompletionResultType]::ParameterName, 'Accepted for GNU compatibility')
            [CompletionResult]::new('--pid', '--pid', [CompletionResultType]::ParameterName, 'With -f: end after process PID dies (repeatable)')
            [CompletionResult]::new('-g', '-g', [CompletionResultType]::ParameterName, 'Print only lines matching REGEX (repeatable: lines matching any)')
            [CompletionResult]::new('--grep', '--grep', [CompletionResultType]::ParameterName, 'Print only lines matching REGEX (repeatable: lines matching any)')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Do not print lines matching REGEX (repeatable)')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Do not print lines matching REGEX (repeatable)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Exit 0 right after printing the first line matching REGEX')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after DURATION (500ms, 30s, 2m, 1h): exit 124')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Exit 0 once no file has produced a new line for DURATION')
            [CompletionResult]::new('--serve', '--serve', [CompletionResultType]::ParameterName, 'Also show the lines live in a browser, on ADDR (default 127.0.0.1:7117)')
            [CompletionResult]::new('--serve-token', '--serve-token', [CompletionResultType]::ParameterName, 'The token the web view requires (also RTAIL_SERVE_TOKEN)')
            [CompletionResult]::new('--generate', '--generate', [CompletionResultType]::ParameterName, 'Print the man page or a shell completion script, and exit')
            [CompletionResult]::new('--number', '--number', [CompletionResultType]::ParameterName, 'Number each line as grep -n does (line_number in --json)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Never print headers giving file names')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Never print headers giving file names')
            [CompletionResult]::new('--silent', '--silent', [CompletionResultType]::ParameterName, 'Never print headers giving file names')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Always print headers giving file names')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Always print headers giving file names')
            [CompletionResult]::new('-z', '-z', [CompletionResultType]::ParameterName, 'Line delimiter is NUL, not newline')
            [CompletionResult]::new('--zero-terminated', '--zero-terminated', [CompletionResultType]::ParameterName, 'Line delimiter is NUL, not newline')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Print NAME: before every line instead of ==> NAME <== headers')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Print NAME: before every line instead of ==> NAME <== headers')
            [CompletionResult]::new('--history', '--history', [CompletionResultType]::ParameterName, 'Take the lines -n lacks from rotated files (app.log.1, .2.gz, ...)')
            [CompletionResult]::new('--multiline', '--multiline', [CompletionResultType]::ParameterName, 'Group continuation lines with the line that starts the record')
            [CompletionResult]::new('--merge', '--merge', [CompletionResultType]::ParameterName, 'Print the records of all FILEs in one stream, ordered by time')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object per line and per notice instead of text')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'Same as --follow=name --retry: the right choice for logs')
            [CompletionResult]::new('--retry', '--retry', [CompletionResultType]::ParameterName, 'Keep trying to open a file that is missing or unreadable')
            [CompletionResult]::new('--poll', '--poll', [CompletionResultType]::ParameterName, 'Poll with stat instead of change notifications')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Match --grep, --exclude and --until without regard to case')
            [CompletionResult]::new('--ignore-case', '--ignore-case', [CompletionResultType]::ParameterName, 'Match --grep, --exclude and --until without regard to case')
            [CompletionResult]::new('--serve-once', '--serve-once', [CompletionResultType]::ParameterName, 'End when the last viewer has left (after one came); implies --serve')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
