// Helpers for the browser tests: start sherpa processes, wait for the URL
// they print, and launch Debian's Chromium through playwright-core (no
// browser download: executablePath points at the system's chromium).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const SHERPA = process.env.SHERPA_BIN || 'sherpa';
export const FAKE_STUDY = process.env.SHERPA_FAKE_STUDY || 'sherpa_fake_study';
export const ARTIFACTS = process.env.SHERPA_ARTIFACTS || join(process.cwd(), 'test-artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

export function tempDir(name) {
  return mkdtempSync(join(tmpdir(), `sherpa-web-${name}-`));
}

// Starts a process and resolves with {proc, url} once a line of its output
// matches `pattern` (the URL a sherpa command prints).
export function startAndWaitForUrl(args, { pattern, cwd, env, timeoutMs = 30000 }) {
  return new Promise((resolve, reject) => {
    const proc = spawn(SHERPA, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`no URL from sherpa ${args.join(' ')} in ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk) => {
      output += chunk.toString();
      const m = output.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, url: m[1], output: () => output });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sherpa ${args.join(' ')} exited with ${code}:\n${output}`));
    });
  });
}

export function waitForExit(proc, timeoutMs) {
  return new Promise((resolve, reject) => {
    if (proc.exitCode !== null) return resolve(proc.exitCode);
    const timer = setTimeout(() => reject(new Error(`process ${proc.pid} still running after ${timeoutMs} ms`)), timeoutMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

// The flags the machine notes ask for: no sandbox (root), no GPU, and none
// of Chromium's own network traffic (this machine's network is closed).
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.SHERPA_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

export async function screenshot(page, name) {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}
