import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {expect, it} from 'vitest';

// A full disk, or one out of inodes, needs a small file system of its own: a
// tmpfs, which only root may mount. Where none can be mounted the tests that
// need one are skipped, and say so loudly; CI runs them as root (.ci/run sets
// JOBDECK_REQUIRE_TMPFS=1), where a tmpfs that cannot be mounted fails.

export type MountCheck = {ok: true} | {ok: false; reason: string};

/** Whether a tmpfs can be mounted here; when not, warns that `what` is skipped, and under JOBDECK_REQUIRE_TMPFS=1 adds a failing test. */
export function tmpfsOrSayWhy(what: string): MountCheck {
	const check = canMountTmpfs();
	if (check.ok) return check;
	console.warn(`\n${'!'.repeat(100)}\nSKIPPED: ${what} need to mount a small tmpfs, which fails here: ${check.reason}.\nThey are reported as skipped, NOT passed. CI runs them as root (.ci/run sets JOBDECK_REQUIRE_TMPFS=1).\n${'!'.repeat(100)}\n`);
	if (process.env['JOBDECK_REQUIRE_TMPFS'] === '1') {
		it('a tmpfs is required here (JOBDECK_REQUIRE_TMPFS=1)', () => {
			expect.fail(`cannot mount a tmpfs: ${check.reason}`);
		});
	}

	return check;
}

function canMountTmpfs(): MountCheck {
	if (process.getuid?.() !== 0) return {ok: false, reason: 'not running as root'};
	const probe = mkdtempSync(join(tmpdir(), 'jobdeck-mount-probe-'));
	try {
		const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'jobdeck-probe', probe], {encoding: 'utf8'});
		if (mount.status !== 0) return {ok: false, reason: (mount.stderr.trim() === '' ? (mount.error?.message ?? 'mount failed') : mount.stderr).trim()};
		spawnSync('umount', [probe]);
		return {ok: true};
	} finally {
		rmSync(probe, {recursive: true, force: true});
	}
}

/** Mounts a tmpfs of `inodes` inodes (mode 0700) on `dir`, and fills them all with empty files; returns those files, to free them with. */
export function mountFullTmpfs(dir: string, inodes: number): string[] {
	const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=1m,nr_inodes=${inodes},mode=0700`, 'jobdeck-test-full', dir], {encoding: 'utf8'});
	expect(mount.status, mount.stderr).toBe(0);
	// The root directory takes one inode.
	const fillers: string[] = [];
	for (let index = 0; index < inodes; index++) {
		const path = join(dir, `filler-${index}`);
		try {
			writeFileSync(path, '');
		} catch {
			break;
		}

		fillers.push(path);
	}

	expect(fillers.length).toBeLessThan(inodes);
	return fillers;
}
