import { lstat, mkdir, readlink, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { nginxLogs } from '../demo-incident.js'

/** The user an instance's commands run as (inside its user namespace; never the host's root). */
export const INSTANCE_UID = 1000

/** Host directories bound read-only into every instance so its binaries and their libraries work. */
export const HOST_SYSTEM_DIRS = ['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'] as const

/**
 * Which host system directories an instance mounts (real directories) and which it mirrors as
 * links (a merged-/usr host has `/bin -> usr/bin`): the instance's root gets the same shape.
 */
export async function hostSystemLayout(): Promise<{ mounts: string[]; links: { name: string; target: string }[] }> {
  const mounts: string[] = []
  const links: { name: string; target: string }[] = []
  for (const name of HOST_SYSTEM_DIRS) {
    const stat = await lstat(`/${name}`).catch(() => undefined)
    if (stat === undefined) continue
    if (stat.isSymbolicLink()) links.push({ name, target: await readlink(`/${name}`) })
    else if (stat.isDirectory()) mounts.push(name)
  }
  return { mounts, links }
}

/**
 * Creates an instance's root filesystem under `dir`: its own /etc (os-release, hostname, passwd),
 * its logs (nginx, syslog, app), an empty /home, and the mount points the sandbox binds over
 * (/usr and the like from the host, read-only; /proc, /dev, /tmp of its own).
 */
export async function seedInstanceRoot(dir: string, name: string, now: number): Promise<void> {
  const layout = await hostSystemLayout()
  for (const mountPoint of [...layout.mounts, 'proc', 'dev', 'tmp', 'home', 'root', 'run']) await mkdir(join(dir, mountPoint), { recursive: true })
  for (const link of layout.links) await symlink(link.target, join(dir, link.name))
  await mkdir(join(dir, 'etc'), { recursive: true })
  const files: Record<string, string> = {
    'etc/hostname': `${name}\n`,
    'etc/hosts': `127.0.0.1 localhost\n127.0.1.1 ${name}\n`,
    'etc/os-release': 'NAME="Airlock Sandbox Linux"\nID=airlock-sandbox\nPRETTY_NAME="Airlock Sandbox Linux (emulated instance)"\nVERSION_ID="1"\n',
    'etc/passwd': `root:x:0:0:root:/root:/bin/sh\nssm-user:x:${INSTANCE_UID}:${INSTANCE_UID}:SSM user:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    'etc/group': `root:x:0:\nssm-user:x:${INSTANCE_UID}:\nnogroup:x:65534:\n`,
    'var/log/syslog': `${name} systemd[1]: Started sandbox instance.\n${name} systemd[1]: Started nginx.service - A high performance web server.\n`,
    'var/log/app/app.log': `${name} app: listening on :8080\n${name} app: GET /health 200\n`,
  }
  const nginx = nginxLogs(name, now)
  files['var/log/nginx/access.log'] = nginx.access
  files['var/log/nginx/error.log'] = nginx.error
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true })
    await writeFile(join(dir, path), text)
  }
}
