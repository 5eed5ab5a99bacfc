import {execa} from 'execa';
import type {EnvVars} from '../core/model.js';
import {UserError} from '../core/user-error.js';

// Before a worker is added, a non-interactive ssh login proves that job
// scripts will reach it without a password prompt that nobody would answer.

const connectTimeoutSeconds = 10;

/**
 * The ssh command line for a worker name: `host`, `user@host`, or
 * `user@host:port` (which ssh only understands as an ssh:// address). The
 * worker's PORT and USER env, which job scripts may use, are honoured too.
 * JOBDECK_SSH_CONFIG names an ssh config file to use instead of ~/.ssh/config.
 */
export function sshProbeArgs(name: string, env: EnvVars): string[] {
	const options = [
		'-o', 'BatchMode=yes',
		'-o', `ConnectTimeout=${connectTimeoutSeconds}`,
		'-o', 'StrictHostKeyChecking=accept-new',
	];
	const config = process.env['JOBDECK_SSH_CONFIG'];
	if (config) options.push('-F', config);
	if (env['PORT']) options.push('-p', env['PORT']);
	if (env['USER']) options.push('-l', env['USER']);
	const destination = /^[^@\s]+@[^:@\s]+:\d+$/.test(name) || /^[^@:\s]+:\d+$/.test(name) ? `ssh://${name}` : name;
	// `--` ends ssh's options, so even a name like -oProxyCommand=… can only ever be a host name.
	return [...options, '--', destination, 'true'];
}

export async function probeWorker(name: string, env: EnvVars): Promise<void> {
	const result = await execa('ssh', sshProbeArgs(name, env), {
		reject: false,
		stdin: 'ignore',
		timeout: (connectTimeoutSeconds + 5) * 1000,
	});
	if (result.exitCode === 0) return;
	const reason = result.timedOut
		? 'timed out'
		: result.stderr.trim().split('\n').filter(Boolean).at(-1) ?? (result.code === 'ENOENT' ? 'ssh is not installed' : `ssh exited with ${result.exitCode}`);
	// The batch-mode options are ours; the rest is what the person can try by hand
	// (and `--` is only there for names that are refused anyway: they start with -).
	const command = ['ssh', ...sshProbeArgs(name, env).slice(6).filter(arg => arg !== '--')].map(arg => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg}'`)).join(' ');
	throw new UserError(`worker ${name} failed the ssh check (${reason}); make sure \`${command}\` works without a password, or add it with --skip-ssh-check`);
}
