import {FormDialog, type FormDialogProps} from './form-dialog.js';

export function AddWorkerForm(props: FormDialogProps) {
	return <FormDialog {...props} title="Add workers" intro="Each name is a host the job scripts reach (jobs get it as $WORKER)." />;
}
