import type { JobMessage, QueuedJob, QueuedPage } from '../domain/bulk-jobs.ts';

/** What opening a page needs of a job store (bulk jobs, reconciliations): the lifecycle reads and writes. */
export interface JobPageStore<J extends QueuedJob, P extends QueuedPage> {
  getJob(siteId: string, jobId: string): Promise<J | null>;
  getPage(siteId: string, jobId: string, page: number): Promise<P | null>;
  markRunning(siteId: string, jobId: string, at: string): Promise<void>;
  completeIfCounted(siteId: string, jobId: string, at: string): Promise<J | null>;
}

/**
 * The first step of every job page delivered (at least once): the job and the page, or why there is nothing to
 * do: the job is unknown or finished, or this page was counted by an earlier delivery (the job is then completed
 * if every page is, in case that delivery died before doing so). A queued job becomes running.
 */
export async function openJobPage<J extends QueuedJob, P extends QueuedPage>(
  store: JobPageStore<J, P>,
  message: JobMessage,
  at: string,
): Promise<{ job: J; page: P } | 'unknown_job' | 'finished' | 'already_counted'> {
  const { siteId, jobId } = message;
  const job = await store.getJob(siteId, jobId);
  if (!job) return 'unknown_job';
  if (job.status === 'completed' || job.status === 'failed') return 'finished';
  const page = await store.getPage(siteId, jobId, message.page);
  if (!page) throw new Error(`job ${jobId} has no page ${message.page}`);
  if (page.counted) {
    await store.completeIfCounted(siteId, jobId, at);
    return 'already_counted';
  }
  if (job.status === 'queued') await store.markRunning(siteId, jobId, at);
  return { job, page };
}
