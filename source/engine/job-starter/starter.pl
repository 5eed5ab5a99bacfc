# The perl job starter: the scheduler's helper process that starts the jobs,
# where perl is installed (job-starter.ts picks it; main.ts is the node one).
# It speaks the protocol in protocol.ts and does what main.ts and its `sh`
# wrapper do together, for less: node's spawn blocks until the child has
# exec'd, and the `sh` wrapper is one more exec a job. Here each job's wrapper
# is a fork of this process, no exec: it syncs the exit file this process
# made for it (the note that the job started), runs the job as its own
# child, in a session and process group of the job's own, writes the job's
# status and end time to the exit file and exits with the status (see
# job-process.ts for why).
#
# Only modules in perl-base (POSIX, Fcntl, IO::Handle): a system with perl has
# them. Time::HiRes is not among them: without it, end times are in seconds.
#
# Arguments: the wrappers' name (job-process.ts's wrapperName), then room:
# a wrapper names itself "NAME EXIT-FILE" in the memory of this process's
# argv and environment (findJobProcess finds it so through /proc/PID/cmdline),
# which must be long enough for that.
#
# It ends when its stdin does (the scheduler stopped or died). The jobs do not
# end with it: each wrapper leads a session of its own, and each job another.
use strict;
use warnings;
use POSIX ();
use Fcntl qw(O_RDONLY O_WRONLY O_APPEND O_CREAT O_EXCL O_NOFOLLOW);
use IO::Handle ();

my $hires = eval { require Time::HiRes; 1 };
# `start --no-sync`: the wrappers sync nothing either (the jobs do not see the variable).
my $sync = !delete $ENV{JOBDECK_STARTER_NO_SYNC};

my $wrapper_name = $ARGV[0] // 'jobdeck-job';
# A burst (a thousand free slots at once) is worked through this many at a
# time; between two slices, the ends of the jobs started so far are reported
# and their slots can take the next jobs.
my $slice_size = 16;
# How long to wait for news while jobs run. A job's end normally cuts the wait
# short (SIGCHLD interrupts select); this only bounds the delay when it came
# just before the select began (perl runs signal handlers between its own
# operations, not inside the system call).
my $running_wait = 0.25;

# What `sh` wrote to the log for a job ended by a signal (strsignal's words;
# nothing for INT and PIPE), so that the log says why. Linux's numbers.
my %signal_words = (1 => 'Hangup', 3 => 'Quit', 4 => 'Illegal instruction', 5 => 'Trace/breakpoint trap', 6 => 'Aborted', 7 => 'Bus error', 8 => 'Floating point exception', 9 => 'Killed', 10 => 'User defined signal 1', 11 => 'Segmentation fault', 12 => 'User defined signal 2', 14 => 'Alarm clock', 15 => 'Terminated');

my %request_of_pid;
my @queue;
my @replies;
my $input = '';
my $child_ended = 0;
$SIG{CHLD} = sub { $child_ended = 1 };

sub one_line { my ($text) = @_; $text =~ s/[\r\n]+/ /g; return $text }

# What a failed system call says, in the words node's starter uses (`no space left on device`).
sub reason { return lcfirst "$!" }

sub reply { push @replies, join(' ', @_) . "\n" }

sub send_replies {
	my $text = join '', @replies;
	@replies = ();
	while (length $text) {
		my $written = syswrite STDOUT, $text;
		if (!defined $written) {
			next if $!{EINTR};
			# The scheduler is gone: nobody is left to tell.
			POSIX::_exit(0);
		}
		substr($text, 0, $written) = '';
	}
}

sub read_requests {
	my $got = sysread STDIN, $input, 1 << 16, length $input;
	if (!defined $got) {
		return if $!{EINTR} || $!{EAGAIN};
		POSIX::_exit(0);
	}
	if ($got == 0) {
		send_replies();
		POSIX::_exit(0);
	}
	my $at = 0;
	while ((my $newline = index $input, "\n", $at) >= 0) {
		my $length = substr $input, $at, $newline - $at;
		last if length($input) < $newline + 1 + $length;
		my @fields = split /\0/, substr($input, $newline + 1, $length), -1;
		# The empty string after the last NUL.
		pop @fields;
		my ($id, $script, $cwd, $log_file, $exit_file, $arg_count) = splice @fields, 0, 6;
		my @args = splice @fields, 0, $arg_count;
		my $env_count = shift @fields;
		push @queue, {id => $id, script => $script, cwd => $cwd, log_file => $log_file, exit_file => $exit_file, args => \@args, env => [splice @fields, 0, 2 * $env_count]};
		$at = $newline + 1 + $length;
	}
	$input = substr $input, $at;
}

# The start time in clock ticks since boot (field 22 of /proc/PID/stat), which tells this process from a later one with its pid.
sub start_time {
	my ($pid) = @_;
	open my $stat, '<', "/proc/$pid/stat" or return '-';
	my $text = <$stat>;
	close $stat;
	return '-' unless defined $text;
	# The command name (field 2) may itself contain spaces and parentheses.
	my @fields = split / /, substr($text, rindex($text, ')') + 2);
	return $fields[19] // '-';
}

# Whatever stands where a new file of ours must go (a link someone planted, a
# file left there) is renamed aside, never written through, and said so.
# Returns that sentence, or undef when the way was clear or could not be cleared.
sub move_aside {
	my ($path) = @_;
	my @seen = lstat $path;
	return undef unless @seen;
	my $what = -l _ ? 'a symbolic link to ' . (readlink($path) // '?') : sprintf('a file of uid %d, mode %04o,', $seen[4], $seen[2] & 07777);
	my $aside = "$path.in-the-way";
	for (my $n = 1; lstat $aside; $n++) { $aside = "$path.in-the-way.$n" }
	return undef unless rename $path, $aside;
	return "$what stood at $path: moved aside to $aside";
}

# A new log, never an existing one (O_EXCL) and never through a link
# (O_NOFOLLOW); what stands in the way is moved aside. When even that fails,
# the job runs without a log (/dev/null), and the note says why. Returns the
# handle and whether it is a file made new for the job (not /dev/null).
sub open_log {
	my ($path, $notes) = @_;
	my $log;
	return ($log, 1) if sysopen $log, $path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW, 0600;
	return undef unless $!{EEXIST};
	my $moved = move_aside($path);
	push @$notes, $moved if defined $moved;
	return ($log, 1) if defined $moved && sysopen $log, $path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW, 0600;
	push @$notes, "the log $path stands in the way (" . ($moved ? 'again' : "it could not be moved aside: $!") . '): the job runs without a log';
	sysopen $log, '/dev/null', O_WRONLY or return undef;
	return ($log, 0);
}

# The job's exit file, new and empty, 0600 whatever the umask, made before
# the wrapper is forked: when it cannot be made (runs/ gone, full, out of
# inodes), nothing runs, since nobody could learn how the job ended, and the
# fault is the scheduler's. What stands in the way is moved aside first.
# Returns whether it was made ($! says why not).
sub create_exit_file {
	my ($path, $notes) = @_;
	my $moved = move_aside($path);
	push @$notes, $moved if defined $moved;
	sysopen my $exit, $path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600 or return 0;
	chmod 0600, $exit;
	close $exit;
	return 1;
}

sub start {
	my ($request) = @_;
	my @notes;
	my ($log, $log_made) = open_log($request->{log_file}, \@notes);
	if (!defined $log) {
		reply('not-started', $request->{id}, 'log', one_line("could not open the log $request->{log_file}: " . reason()));
		return;
	}
	if (!create_exit_file($request->{exit_file}, \@notes)) {
		my $why = reason();
		close $log;
		# Nothing runs, so nothing is said in its log: made new for this run a moment ago, it is empty and ours.
		unlink $request->{log_file} if $log_made;
		reply('not-started', $request->{id}, 'exit-file', one_line("could not create the exit file $request->{exit_file}: $why"));
		return;
	}
	# The wrapper inherits this process's directory: nothing here uses a relative path.
	my $pid = chdir($request->{cwd}) ? fork : undef;
	if (!defined $pid) {
		syswrite $log, "jobdeck: could not start $request->{script} in $request->{cwd}\n";
		close $log;
		reply('not-started', $request->{id});
		return;
	}
	wrap($request, $log) if $pid == 0;
	close $log;
	$request_of_pid{$pid} = $request->{id};
	reply('spawned', $request->{id}, $pid, start_time($pid), @notes ? one_line(join '; ', @notes) : ());
}

sub now_ms { return $hires ? int(Time::HiRes::time() * 1000) : time * 1000 }

# fsync of a file or directory by its name (none under `start --no-sync`).
sub sync_path {
	my ($path) = @_;
	return 1 unless $sync;
	sysopen my $handle, $path, O_RDONLY or return 0;
	my $synced = $handle->sync;
	close $handle;
	return $synced;
}

# The job's status and end time, in a file made new under a temporary name,
# synced, renamed into place, and its directory synced: whole, on disk, and
# never written through a link.
sub write_status {
	my ($exit_file, $text) = @_;
	my $temporary = "$exit_file.tmp";
	unlink $temporary;
	sysopen my $out, $temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600 or return 0;
	my $written = syswrite($out, $text) && (!$sync || $out->sync);
	close $out or $written = 0;
	return 0 unless $written && rename $temporary, $exit_file;
	sync_path(directory_of($exit_file));
	return 1;
}

sub directory_of { my ($path) = @_; return $path =~ m{^(.*)/[^/]*$} ? (length $1 ? $1 : '/') : '.' }

# The wrapper, in the forked child: never returns.
sub wrap {
	my ($request, $log) = @_;
	my $exit_file = $request->{exit_file};
	# First: from now on, a scheduler that lost this process's pid (the starter died before telling it) can find it.
	$0 = "$wrapper_name $exit_file";
	# A session of its own, which outlives this process and which a Ctrl-C meant for the scheduler does not reach.
	POSIX::setsid();
	$SIG{CHLD} = 'DEFAULT';
	my $null = POSIX::open('/dev/null', O_RDONLY);
	POSIX::dup2($null, 0);
	POSIX::close($null);
	POSIX::dup2(fileno $log, 1);
	POSIX::dup2(fileno $log, 2);
	close $log;
	my @env = @{$request->{env}};
	while (my ($name, $value) = splice @env, 0, 2) { $ENV{$name} = $value }

	# The exit file (start made it) on disk before the job runs: after a power cut, a run without its exit file is one that never ran, and runs again.
	sync_path($exit_file);
	sync_path(directory_of($exit_file));

	# Caught only to outlive the job and write its status; the job gets them back as they were.
	$SIG{$_} = sub { } for qw(HUP INT TERM);
	my $job = fork;
	if (defined $job && $job == 0) {
		$SIG{$_} = 'DEFAULT' for qw(HUP INT TERM);
		# The job leads a session and process group of its own, as under cli.py (start_new_session):
		# its `kill -- -$$` and `kill 0` reach it and its children, never the wrapper.
		POSIX::setsid();
		# execvp, as sh ran "$@": a PATH lookup, and a script without a #! line is run by /bin/sh.
		{ no warnings 'exec'; exec { $request->{script} } $request->{script}, @{$request->{args}}; }
		my $not_found = $!{ENOENT} || $!{ENOTDIR};
		syswrite STDERR, "$wrapper_name: $request->{script}: " . ($not_found ? 'not found' : "$!") . "\n";
		POSIX::_exit($not_found ? 127 : 126);
	}
	my $status;
	if (!defined $job) {
		syswrite STDERR, "$wrapper_name: cannot fork: $!\n";
		$status = 2;
	} else {
		waitpid $job, 0;
		my $signal = $? & 127;
		# As shells report it: the exit code, or 128+N for a job ended by signal N.
		$status = $signal ? 128 + $signal : $? >> 8;
		if ($signal && $signal != 2 && $signal != 13) {
			syswrite STDERR, ($signal_words{$signal} // "Signal $signal") . ($? & 128 ? ' (core dumped)' : '') . "\n";
		}
	}
	if (!write_status($exit_file, "$status " . now_ms() . "\n")) {
		# The status still reaches the scheduler that started it, as this process's own.
		syswrite STDERR, "$wrapper_name: cannot write $exit_file: $!\n";
	}
	POSIX::_exit($status);
}

sub report_ended {
	while ((my $pid = waitpid -1, POSIX::WNOHANG()) > 0) {
		my $id = delete $request_of_pid{$pid};
		next unless defined $id;
		if ($? & 127) { reply('exited', $id, '-', $? & 127) }
		else { reply('exited', $id, $? >> 8, '-') }
	}
}

while (1) {
	my $ready = '';
	vec($ready, fileno(STDIN), 1) = 1;
	my $wait = @queue || $child_ended ? 0 : %request_of_pid ? $running_wait : undef;
	read_requests() if select($ready, undef, undef, $wait) > 0;
	start($_) for splice @queue, 0, $slice_size;
	$child_ended = 0;
	report_ended();
	send_replies() if @replies;
}
