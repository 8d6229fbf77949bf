// pgboss.mjs — pg-boss (a PostgreSQL job queue for Node.js) in the shapes
// of sje-bench, on a PostgreSQL given as a libpq connection string in
// PGBOSS_DSN ("host=/tmp/sje-pg.XXXX port=5432 user=sje dbname=postgres",
// what tests/support/pg.sh writes). tests/bench/pgboss.sh runs it.
//
//   node pgboss.mjs throughput [--jobs N]   (default 5000)
//       N no-op jobs sent with insert() in batches of 500; jobs/s from
//       the first send until all N are completed.
//   node pgboss.mjs w1 [--jobs N]           (default 1000)
//       N jobs, one awaited send() after another; submits/s, and jobs/s
//       from the first send until all N are completed.
//   node pgboss.mjs w2 [--jobs N]           (default 100)
//       send one job, poll getJobById() until its state is "completed",
//       next; p50/p90/p99/max of send-to-seen-completed.
//
// Each run makes a queue of its own and forks two worker processes (this
// file, role "worker"), each with one work() handler that fetches up to
// PGBOSS_BATCH jobs at a time (default 500) and polls every
// PGBOSS_POLL_S seconds (default 0.5, the least pg-boss 10 accepts). The
// handler does nothing; pg-boss completes the batch after it returns.
// "All completed" is seen by counting the queue's rows in state
// 'completed' every 5 ms (one SELECT); W2's client polls getJobById every
// PGBOSS_CLIENT_POLL_MS (default 2) ms. supervise (maintenance) and
// schedule (cron) are off in every process: no background work in the
// timing. The whole run is bounded by PGBOSS_TIMEOUT_S (default 120): past
// it, it stops the workers and exits 2.
//
// Every mode ends with one "RESULT pgboss-<mode> key=value ..." line.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import PgBoss from 'pg-boss'

const SEND_BATCH = 500
const BATCH = intEnv('PGBOSS_BATCH', 500)
const POLL_S = Number(process.env.PGBOSS_POLL_S || 0.5)
const CLIENT_POLL_MS = intEnv('PGBOSS_CLIENT_POLL_MS', 2)
const TIMEOUT_S = intEnv('PGBOSS_TIMEOUT_S', 120)

function intEnv (name, dflt) {
  const v = process.env[name]
  if (v === undefined || v === '') return dflt
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) die(`${name} must be a positive integer`)
  return n
}

function die (msg) {
  console.error(`pgboss.mjs: ${msg}`)
  process.exit(1)
}

// parseDsn: a libpq keyword/value string into node-postgres options.
function parseDsn (dsn) {
  const keys = { host: 'host', port: 'port', dbname: 'database', user: 'user', password: 'password' }
  const out = {}
  const re = /\s*([a-z_]+)\s*=\s*('((?:[^'\\]|\\.)*)'|\S*)/gy
  let m
  let pos = 0
  while ((m = re.exec(dsn)) !== null) {
    pos = re.lastIndex
    const key = m[1]
    const val = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2]
    if (!(key in keys)) die(`PGBOSS_DSN: keyword ${key} is not supported`)
    out[keys[key]] = key === 'port' ? Number(val) : val
  }
  if (dsn.slice(pos).trim() !== '') die('PGBOSS_DSN: cannot parse it')
  return out
}

function connOptions () {
  const dsn = process.env.PGBOSS_DSN
  if (!dsn) die('set PGBOSS_DSN (a libpq connection string)')
  return { ...parseDsn(dsn), max: 4, supervise: false, schedule: false }
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
const now = () => Number(process.hrtime.bigint()) / 1e9

async function worker (queue, delayMs) {
  const boss = new PgBoss(connOptions())
  boss.on('error', err => console.error(`pgboss worker: ${err.message}`))
  await boss.start()
  await sleep(delayMs) // the second worker polls half an interval after the first
  await boss.work(queue, { batchSize: BATCH, pollingIntervalSeconds: POLL_S }, async () => {})
  process.on('disconnect', () => process.exit(1)) // the parent is gone
  process.send('ready')
  process.on('message', async msg => {
    if (msg === 'stop') {
      await boss.stop({ graceful: true, wait: true, timeout: 5000 })
      process.exit(0)
    }
  })
}

async function main () {
  const args = process.argv.slice(2)
  const mode = args[0]
  if (mode === 'worker') return worker(args[1], Number(args[2]))
  const dflt = { throughput: 5000, w1: 1000, w2: 100 }[mode]
  if (dflt === undefined) die('usage: pgboss.mjs throughput|w1|w2 [--jobs N]')
  let n = dflt
  for (let i = 1; i < args.length; i++) {
    if (args[i] === '--jobs' && i + 1 < args.length) {
      n = Number(args[++i])
      if (!Number.isInteger(n) || n < 1) die('--jobs must be a positive integer')
    } else {
      die(`unknown option ${args[i]}`)
    }
  }

  const deadline = now() + TIMEOUT_S
  const children = []
  const stopChildren = () => { for (const c of children) c.kill('SIGTERM') }
  const timer = setTimeout(() => {
    console.error(`pgboss.mjs: ${mode} did not finish within ${TIMEOUT_S} s`)
    stopChildren()
    process.exit(2)
  }, TIMEOUT_S * 1000)
  const checkDeadline = () => { if (now() > deadline) throw new Error(`past ${TIMEOUT_S} s`) }

  const boss = new PgBoss(connOptions())
  boss.on('error', err => console.error(`pgboss: ${err.message}`))
  await boss.start()
  const queue = `bench_${mode}_${process.pid}_${Date.now()}`
  await boss.createQueue(queue)
  const db = boss.getDb()

  // Two worker processes; the clock starts once both are polling.
  const me = fileURLToPath(import.meta.url)
  await Promise.all([0, 1].map(w => new Promise((resolve, reject) => {
    const c = fork(me, ['worker', queue, String(w * POLL_S * 500)], { stdio: 'inherit' })
    children.push(c)
    c.once('message', m => m === 'ready' ? resolve() : reject(new Error(String(m))))
    c.once('exit', code => reject(new Error(`a worker exited (${code})`)))
  })))

  const completed = async () => {
    const { rows } = await db.executeSql(
      "SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'completed'", [queue])
    return rows[0].n
  }
  const waitAll = async () => {
    while (await completed() < n) {
      checkDeadline()
      await sleep(5)
    }
  }
  const settings = `${BATCH} per fetch, polling every ${POLL_S} s`

  if (mode === 'throughput') {
    const t0 = now()
    for (let off = 0; off < n; off += SEND_BATCH) {
      const k = Math.min(SEND_BATCH, n - off)
      await boss.insert(Array.from({ length: k }, () => ({ name: queue, data: {} })))
      checkDeadline()
    }
    const tSub = now()
    await waitAll()
    const t1 = now()
    console.log(`pg-boss throughput: ${n} noop jobs in batches of ${SEND_BATCH} (2 workers, ${settings}): ` +
      `submitted in ${(tSub - t0).toFixed(3)} s (${(n / (tSub - t0)).toFixed(0)} jobs/s), ` +
      `all completed in ${(t1 - t0).toFixed(3)} s: ${(n / (t1 - t0)).toFixed(0)} jobs/s end to end`)
    console.log(`RESULT pgboss-throughput jobs_per_s=${(n / (t1 - t0)).toFixed(0)} ` +
      `submitted_per_s=${(n / (tSub - t0)).toFixed(0)}`)
  } else if (mode === 'w1') {
    const t0 = now()
    for (let i = 0; i < n; i++) {
      await boss.send(queue, {})
      checkDeadline()
    }
    const tSub = now()
    await waitAll()
    const t1 = now()
    console.log(`pg-boss w1: ${n} noop jobs, one awaited send() after another (2 workers, ${settings}): ` +
      `submitted in ${(tSub - t0).toFixed(3)} s (${(n / (tSub - t0)).toFixed(0)} submits/s), ` +
      `all completed in ${(t1 - t0).toFixed(3)} s: ${(n / (t1 - t0)).toFixed(0)} jobs/s`)
    console.log(`RESULT pgboss-w1 jobs_per_s=${(n / (t1 - t0)).toFixed(0)} ` +
      `submits_per_s=${(n / (tSub - t0)).toFixed(0)}`)
  } else {
    const lat = []
    const total0 = now()
    for (let i = 0; i < n; i++) {
      const t0 = now()
      const id = await boss.send(queue, {})
      for (;;) {
        const job = await boss.getJobById(queue, id)
        if (job && job.state === 'completed') break
        if (job && job.state === 'failed') throw new Error(`job ${id} failed`)
        checkDeadline()
        await sleep(CLIENT_POLL_MS)
      }
      lat.push(now() - t0)
    }
    const total = now() - total0
    lat.sort((a, b) => a - b)
    const us = q => (lat[Math.min(n - 1, Math.floor(n * q))] * 1e6).toFixed(0)
    const mean = (lat.reduce((a, b) => a + b, 0) / n * 1e6).toFixed(0)
    console.log(`pg-boss w2: ${n} sequential noop jobs (send, poll getJobById every ${CLIENT_POLL_MS} ms ` +
      `until completed, next; 2 workers, ${settings}) in ${total.toFixed(3)} s: ` +
      `mean ${mean} us, p10 ${us(0.1)} us, p50 ${us(0.5)} us, p90 ${us(0.9)} us, p99 ${us(0.99)} us, max ${(lat[n - 1] * 1e6).toFixed(0)} us`)
    console.log(`RESULT pgboss-w2 p50_us=${us(0.5)} p99_us=${us(0.99)} mean_us=${mean}`)
  }

  for (const c of children) c.removeAllListeners('exit')
  await Promise.all(children.map(c => new Promise(resolve => {
    c.once('exit', resolve)
    c.send('stop')
  })))
  await boss.stop({ graceful: false })
  clearTimeout(timer)
}

main().catch(err => {
  console.error(`pgboss.mjs: ${err.stack || err.message}`)
  process.exit(1)
})
