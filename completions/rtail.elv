
use builtin;
use str;

set edit:completion:arg-completer[rtail] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'rtail'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'rtail'= {
            cand -c 'Output the last NUM bytes; -c +NUM: from byte NUM on'
            cand --bytes 'Output the last NUM bytes; -c +NUM: from byte NUM on'
            cand -n 'Output the last NUM lines (default 10); -n +NUM: from line NUM on'
            cand --lines 'Output the last NUM lines (default 10); -n +NUM: from line NUM on'
            cand --since 'Output the records stamped at WHEN or later (10m, 1h30m, 10:00…)'
            cand --color 'When to colour level words, matches and headers'
            cand --colour 'When to colour level words, matches and headers'
            cand --record-start 'Records start at lines matching REGEX (implies --multiline)'
            cand --merge-window 'Following with --merge: how long a record waits (default 200ms)'
            cand -f 'Output appended data as the file grows'
            cand --follow 'Output appended data as the file grows'
            cand -s 'Seconds between polls, where polling is needed (default 1.0)'
            cand --sleep-interval 'Seconds between polls, where polling is needed (default 1.0)'
            cand --max-unchanged-stats 'Accepted for GNU compatibility'
            cand --pid 'With -f: end after process PID dies (repeatable)'
            cand -g 'Print only lines matching REGEX (repeatable: lines matching any)'
            cand --grep 'Print only lines matching REGEX (repeatable: lines matching any)'
            cand -x 'Do not print lines matching REGEX (repeatable)'
            cand --exclude 'Do not print lines matching REGEX (repeatable)'
            cand --until 'Exit 0 right after printing the first line matching REGEX'
            cand --timeout 'Give up after DURATION (500ms, 30s, 2m, 1h): exit 124'
            cand --idle-timeout 'Exit 0 once no file has produced a new line for DURATION'
            cand --serve 'Also show the lines live in a browser, on ADDR (default 127.0.0.1:7117)'
            cand --serve-token 'The token the web view requires (also RTAIL_SERVE_TOKEN)'
            cand --generate 'Print the man page or a shell completion script, and exit'
            cand --number 'Number each line as grep -n does (line_number in --json)'
            cand -q 'Never print headers giving file names'
            cand --quiet 'Never print headers giving file names'
            cand --silent 'Never print headers giving file names'
            cand -v 'Always print headers giving file names'
            cand --verbose 'Always print headers giving file names'
            cand -z 'Line delimiter is NUL, not newline'
            cand --zero-terminated 'Line delimiter is NUL, not newline'
            cand -P 'Print NAME: before every line instead of ==> NAME <== headers'
            cand --prefix 'Print NAME: before every line instead of ==> NAME <== headers'
            cand --history 'Take the lines -n lacks from rotated files (app.log.1, .2.gz, ...)'
            cand --multiline 'Group continuation lines with the line that starts the record'
            cand --merge 'Print the records of all FILEs in one stream, ordered by time'
            cand --json 'Print one JSON object per line and per notice instead of text'
            cand -F 'Same as --follow=name --retry: the right choice for logs'
            cand --retry 'Keep trying to open a file that is missing or unreadable'
            cand --poll 'Poll with stat instead of change notifications'
            cand -i 'Match --grep, --exclude and --until without regard to case'
            cand --ignore-case 'Match --grep, --exclude and --until without regard to case'
            cand --serve-once 'End when the last viewer has left (after one came); implies --serve'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
    ]
    $completions[$command]
}
