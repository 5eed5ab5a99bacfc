// React's development build checks, times and records every render: a third
// of the UI's CPU in a profile. The UI is not developed in the terminal it
// runs in, so it loads the production build whatever NODE_ENV the user's
// shell sets for their own projects. Imported before ink, which loads react.
// React picks its build once, when it loads; NODE_ENV goes back to what it was
// straight after (restoreNodeEnv), because jobs inherit the scheduler's
// environment, through a job starter that may be started again at any time.

const userNodeEnv = process.env.NODE_ENV;
process.env.NODE_ENV = 'production';

export function restoreNodeEnv(): void {
	if (userNodeEnv === undefined) delete process.env.NODE_ENV;
	else process.env.NODE_ENV = userNodeEnv;
}
