import {withScheduler} from '../connect.js';

export async function control(dataDir: string, action: 'stop' | 'pause' | 'resume'): Promise<void> {
	await withScheduler(dataDir, async scheduler => {
		if (action === 'stop') await scheduler.stop();
		else await scheduler.setPaused(action === 'pause');
	});
	console.log({
		stop: 'scheduler stopped; running jobs keep running and the next start adopts them',
		pause: 'paused: no new job starts until `jobdeck resume`',
		resume: 'resumed',
	}[action]);
}
