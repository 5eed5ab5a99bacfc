#!/usr/bin/env node
// Makes media/screenshot.svg: a real jobdeck, with a few workers and jobs,
// in a tmux window, captured with its colours and drawn as SVG text.
//
//   npm run build && node media/make-screenshot.mjs [columns rows]
//
// Needs tmux. The ANSI-to-SVG conversion is here, not a dependency: the
// 16 basic colours, bold, dim and reverse video are all the UI uses.

import {execFileSync} from 'node:child_process';
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'jobdeck.cjs');
const [columns, rows] = [Number(process.argv[2] ?? 120), Number(process.argv[3] ?? 34)];
const socket = `jobdeck-screenshot-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'jobdeck-screenshot-'));
const dataDir = join(dir, 'data');
const tmux = (...args) => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], {encoding: 'utf8'});
const jobdeck = (command, ...args) => execFileSync('node', [cli, command, '--data-dir', dataDir, ...args], {cwd: dir, encoding: 'utf8'});
const palette = [
	'#1e1e1e', '#cd3131', '#0dbc79', '#e5e510', '#2472c8', '#bc3fbc', '#11a8cd', '#e5e5e5',
	'#666666', '#f14c4c', '#23d18b', '#f5f543', '#3b8eea', '#d670d6', '#29b8db', '#ffffff',
];
const background = '#1e1e1e';
const foreground = '#cccccc';

const sleep = milliseconds => new Promise(resolve => setTimeout(resolve, milliseconds));

function script(name, body) {
	const path = join(dir, name);
	writeFileSync(path, `#!/bin/sh\n${body}\n`);
	chmodSync(path, 0o755);
}

script('train.sh', 'i=0; while [ $i -lt 400 ]; do i=$((i+1)); echo "epoch $i/400 lr=$1 loss=0.$((97 - i % 90))"; sleep 0.2; done');
script('quick.sh', 'echo "preprocess $1"; sleep 1; echo "wrote shard $1"');
script('flaky.sh', 'echo "fetching $1"; sleep 0.5; echo "error: connection refused" >&2; exit 2');

try {
	tmux('new-session', '-d', '-s', 'main', '-x', String(columns), '-y', String(rows),
		`cd ${dir} && env -u CI TERM=xterm-256color node ${cli} start --data-dir ${dataDir} --log-dir ${join(dir, 'logs')}`);
	await sleep(1500);
	jobdeck('add-worker', '--skip-ssh-check', '--slots', '2', 'gpu01', 'gpu02');
	jobdeck('add-worker', '--skip-ssh-check', 'cpu01');
	for (const shard of [1, 2, 3, 4]) jobdeck('add-job', './quick.sh', String(shard));
	jobdeck('add-job', './flaky.sh', 's3://bucket/a');
	for (const lr of ['0.1', '0.03', '0.01', '0.003', '0.001']) jobdeck('add-job', './train.sh', lr);
	for (let shard = 5; shard <= 40; shard++) jobdeck('add-job', './quick.sh', String(shard), '--note', 'two words');
	await sleep(2500);
	jobdeck('disable', 'cpu01');
	tmux('send-keys', '-t', 'main', '3');
	await sleep(1200);
	const screen = tmux('capture-pane', '-t', 'main', '-p', '-e');
	const svg = ansiToSvg(screen, columns, rows);
	writeFileSync(join(root, 'media', 'screenshot.svg'), svg);
	console.log(`wrote media/screenshot.svg (${columns}x${rows})`);
	tmux('send-keys', '-t', 'main', 'q');
	await sleep(300);
	tmux('send-keys', '-t', 'main', 'y');
	await sleep(1000);
} finally {
	try {
		tmux('kill-server');
	} catch {
		// No server left to kill.
	}

	// The demo jobs outlive the scheduler in process groups of their own: end those groups, by the pids jobdeck recorded.
	try {
		const status = JSON.parse(jobdeck('status', '--json'));
		for (const run of status.running ?? status.runningJobs ?? []) {
			if (run.pid) {
				try {
					process.kill(-run.pid, 'SIGKILL');
				} catch {
					// That job's group has ended already.
				}
			}
		}
	} catch (error) {
		console.error(`could not end the demo jobs: ${error.message}`);
	}

	rmSync(dir, {recursive: true, force: true});
}

// ANSI to SVG.

function ansiToSvg(text, width, height) {
	const cell = {width: 8.4, height: 17};
	const lines = text.split('\n').slice(0, height);
	const spans = [];
	const rects = [];
	let style = {fg: undefined, bg: undefined, bold: false, dim: false, inverse: false};
	lines.forEach((line, row) => {
		let column = 0;
		let run = {text: '', column: 0, style};
		const flush = () => {
			if (run.text.length > 0) addRun(run, row);
			run = {text: '', column, style};
		};

		const pattern = /\u001B\[([\d;]*)m|([^\u001B])/gu;
		for (const match of line.matchAll(pattern)) {
			if (match[1] !== undefined) {
				flush();
				style = applySgr(style, match[1]);
				run.style = style;
			} else {
				run.text += match[2];
				column++;
			}
		}

		flush();
		style = {...style};
	});

	function addRun({text, column, style}, row) {
		let fg = style.fg === undefined ? foreground : palette[style.fg];
		let bg = style.bg === undefined ? undefined : palette[style.bg];
		if (style.inverse) [fg, bg] = [bg ?? background, fg];
		const x = column * cell.width;
		const y = row * cell.height;
		const length = [...text].length;
		if (bg) rects.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${(length * cell.width).toFixed(1)}" height="${cell.height}" fill="${bg}"/>`);
		if (text.trim().length === 0) return;
		const attributes = [`x="${x.toFixed(1)}"`, `y="${y + 13}"`, `fill="${fg}"`];
		if (style.bold) attributes.push('font-weight="bold"');
		if (style.dim) attributes.push('opacity="0.6"');
		spans.push(`<text ${attributes.join(' ')} textLength="${(length * cell.width).toFixed(1)}" lengthAdjust="spacingAndGlyphs">${escapeXml(text)}</text>`);
	}

	const svgWidth = Math.ceil(width * cell.width) + 20;
	const svgHeight = height * cell.height + 20;
	return [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${svgWidth}" height="${svgHeight}" viewBox="0 0 ${svgWidth} ${svgHeight}">`,
		`<rect width="100%" height="100%" rx="6" fill="${background}"/>`,
		'<g transform="translate(10 10)" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="14" xml:space="preserve">',
		...rects,
		...spans,
		'</g>',
		'</svg>',
		'',
	].join('\n');
}

function applySgr(style, parameters) {
	const codes = parameters === '' ? [0] : parameters.split(';').map(Number);
	let next = {...style};
	for (let index = 0; index < codes.length; index++) {
		const code = codes[index];
		if (code === 0) next = {fg: undefined, bg: undefined, bold: false, dim: false, inverse: false};
		else if (code === 1) next.bold = true;
		else if (code === 2) next.dim = true;
		else if (code === 22) next.bold = next.dim = false;
		else if (code === 7) next.inverse = true;
		else if (code === 27) next.inverse = false;
		else if (code >= 30 && code <= 37) next.fg = code - 30;
		else if (code >= 90 && code <= 97) next.fg = code - 90 + 8;
		else if (code === 39) next.fg = undefined;
		else if (code >= 40 && code <= 47) next.bg = code - 40;
		else if (code >= 100 && code <= 107) next.bg = code - 100 + 8;
		else if (code === 49) next.bg = undefined;
		else if (code === 38 || code === 48) {
			// 256 colours: keep the basic 16, approximate the rest with the default.
			const value = codes[index + 1] === 5 ? codes[index + 2] : undefined;
			const key = code === 38 ? 'fg' : 'bg';
			next[key] = value !== undefined && value < 16 ? value : undefined;
			index += codes[index + 1] === 5 ? 2 : 4;
		}
	}

	return next;
}

function escapeXml(text) {
	return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
